import chalk from 'chalk';
import Table from 'cli-table3';
import { duration, fixed, percent } from '../ui/format.js';
import type { Comparison, MetricDelta } from './compare.js';
import { COMPACT_TABLE } from './terminal-charts.js';
import type { RunMetrics } from './run-details.js';

/** `runner compare`: config changes, metric deltas and per-class recall changes, improvements green, losses red. */
export function renderComparison(c: Comparison): string {
  const label = (run: Comparison['a']) => `${run.id} (${run.experiment}${run.git.branch ? `, ${run.git.branch}` : ''})`;
  const parts = [`${chalk.bold('A')} ${label(c.a)}\n${chalk.bold('B')} ${label(c.b)}`, configSection(c), metricSection(c)];
  if (c.classes) parts.push(classSection(c));
  if (c.confusionShifts.length) parts.push(shiftSection(c));
  return parts.join('\n\n');
}

function configSection(c: Comparison): string {
  if (c.configChanges.length === 0) return `${title('Config')}\n  identical`;
  const table = new Table({ head: ['path', 'A', 'B'].map((h) => chalk.bold(h)), style: COMPACT_TABLE });
  for (const change of c.configChanges) table.push([change.path, show(change.a), show(change.b)]);
  return `${title(`Config differences (${c.configChanges.length})`)}\n${table.toString()}`;
}

const FORMAT: Record<keyof RunMetrics, [string, (v: number | null) => string, (d: number) => string]> = {
  testAccuracy: ['test accuracy', (v) => percent(v), (d) => `${signed(d * 100, 2)} pts`],
  testLoss: ['test loss', (v) => fixed(v), (d) => signed(d, 4)],
  epochs: ['epochs', (v) => String(v ?? '—'), (d) => signed(d, 0)],
  bestEpoch: ['best epoch', (v) => String(v ?? '—'), (d) => signed(d, 0)],
  seconds: ['training time', duration, (d) => `${signed(d, 1)}s`],
  paramCount: ['weights', (v) => v?.toLocaleString('en') ?? '—', (d) => `${d > 0 ? '+' : d < 0 ? '−' : '±'}${Math.abs(d).toLocaleString('en')}`],
};

function metricSection(c: Comparison): string {
  const table = new Table({ head: ['metric', 'A', 'B', 'B − A'].map((h) => chalk.bold(h)), style: COMPACT_TABLE, colAligns: ['left', 'right', 'right', 'right'] });
  for (const m of c.metrics) {
    const [name, format, formatDelta] = FORMAT[m.name];
    table.push([name, format(m.a), format(m.b), m.delta === null ? '—' : tone(m)(formatDelta(m.delta))]);
  }
  return `${title('Metrics')}\n${table.toString()}`;
}

function classSection(c: Comparison): string {
  const table = new Table({ head: ['class', 'recall A', 'recall B', 'B − A'].map((h) => chalk.bold(h)), style: COMPACT_TABLE, colAligns: ['left', 'right', 'right', 'right'] });
  for (const k of c.classes!) {
    table.push([c.a.classes[k.classIndex]!, percent(k.recallA, 1), percent(k.recallB, 1), tone({ delta: k.delta, higherIsBetter: true })(`${signed(k.delta * 100, 1)} pts`)]);
  }
  return `${title('Per-class recall (worst change first)')}\n${table.toString()}`;
}

function shiftSection(c: Comparison): string {
  const names = c.a.classes;
  const lines = c.confusionShifts.map(
    (s) => `  ${names[s.trueClass]} taken for ${names[s.predicted]}: ${percent(s.rateA, 1)} → ${percent(s.rateB, 1)} ${tone({ delta: s.delta, higherIsBetter: false })(`(${signed(s.delta * 100, 1)} pts)`)}`,
  );
  return `${title('Confusions that changed most (share of the true class)')}\n${lines.join('\n')}`;
}

function tone(m: Pick<MetricDelta, 'delta' | 'higherIsBetter'>): (text: string) => string {
  if (m.higherIsBetter === undefined || !m.delta) return (text) => text;
  return m.delta > 0 === m.higherIsBetter ? chalk.green : chalk.red;
}

function signed(value: number, digits: number): string {
  const text = Math.abs(value).toFixed(digits);
  return Number(text) === 0 ? `±${text}` : `${value > 0 ? '+' : '−'}${text}`;
}

function show(value: unknown): string {
  return value === undefined ? chalk.dim('(absent)') : JSON.stringify(value);
}

function title(text: string): string {
  return chalk.bold.underline(text);
}
