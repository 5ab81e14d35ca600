import chalk from 'chalk';

const BARS = '▁▂▃▄▅▆▇█';

/** One block character per value, scaled between the series' own min and max (a flat series sits mid-height). */
export function sparkline(values: (number | null)[]): string {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return values
    .map((v) => {
      if (v === null || !Number.isFinite(v)) return ' ';
      const level = hi === lo ? 3 : Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1));
      return BARS[level];
    })
    .join('');
}

export interface HeatmapOptions {
  rowLabels: readonly string[];
  columnLabels: readonly string[];
  /** Text of each cell. */
  cells: string[][];
  /** Colour intensity of each cell, 0..1, and whether it is on the good (diagonal) or bad side. */
  shade: (row: number, column: number) => { intensity: number; good: boolean };
}

/**
 * A matrix whose cells are tinted by a background colour: green for good cells, red for bad ones, stronger
 * for larger values. Without colour (pipes, FORCE_COLOR=0) it degrades to an aligned table of the cell texts.
 */
export function heatmap(options: HeatmapOptions): string {
  const width = Math.max(5, ...options.cells.flat().map((c) => c.length), ...options.columnLabels.map((l) => l.length)) + 1;
  const labelWidth = Math.max(...options.rowLabels.map((l) => l.length)) + 1;
  const head = ' '.repeat(labelWidth) + options.columnLabels.map((l) => chalk.bold(l.padStart(width))).join('');
  const rows = options.cells.map((row, r) => {
    const tinted = row.map((text, c) => {
      const { intensity, good } = options.shade(r, c);
      const level = Math.round(40 + 180 * Math.min(1, Math.max(0, intensity)));
      const paint = intensity <= 0 ? chalk.dim : good ? chalk.bgRgb(20, level, 40).white : chalk.bgRgb(level, 25, 30).white;
      return paint(text.padStart(width));
    });
    return chalk.bold(options.rowLabels[r]!.padEnd(labelWidth)) + tinted.join('');
  });
  return [head, ...rows].join('\n');
}
