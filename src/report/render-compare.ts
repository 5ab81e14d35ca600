import chalk from 'chalk';
import { duration, fixed, percent } from '../ui/format.js';
import type { Comparison, ConfusionShift, MetricDelta } from './compare.js';
import { runEpochsLabel } from './depth.js';
import type { RunDetails, RunMetrics } from './run-details.js';
import { markdownTable, terminalTable, type CellTable } from './tables.js';

const CLASSES_TITLE = 'Per-class recall (worst change first)';
const SHIFTS_TITLE = 'Confusions that changed most (share of the true class)';

/** `runner compare`: config changes, metric deltas and per-class recall changes, improvements green, losses red. */
export function renderComparison(c: Comparison): string {
  const parts = [`${chalk.bold('A')} ${label(c.a)}\n${chalk.bold('B')} ${label(c.b)}`];
  parts.push(c.configChanges.length ? `${title(configTitle(c))}\n${terminalTable(configTable(c))}` : `${title('Config')}\n  identical`);
  parts.push(`${title('Metrics')}\n${terminalTable(metricTable(c))}`);
  if (c.classes) parts.push(`${title(CLASSES_TITLE)}\n${terminalTable(classTable(c, c.classes))}`);
  if (c.confusionShifts.length) parts.push(shiftSection(c));
  return parts.join('\n\n');
}

/** `runner compare --md`: the same cells as Markdown tables under headings, for a pull-request comment. */
export function comparisonMarkdown(c: Comparison): string {
  // Two trailing spaces: a Markdown line break.
  const parts = [`**A** ${label(c.a)}  \n**B** ${label(c.b)}`];
  parts.push(c.configChanges.length ? `### ${configTitle(c)}\n\n${markdownTable(configTable(c))}` : '### Config\n\nidentical');
  parts.push(`### Metrics\n\n${markdownTable(metricTable(c))}`);
  if (c.classes) parts.push(`### ${CLASSES_TITLE}\n\n${markdownTable(classTable(c, c.classes))}`);
  if (c.confusionShifts.length) parts.push(`### ${SHIFTS_TITLE}\n\n${markdownTable(shiftTable(c))}`);
  return parts.join('\n\n');
}

function label(run: Comparison['a']): string {
  return `${run.id} (${run.experiment}${run.git.branch ? `, ${run.git.branch}` : ''})`;
}

function configTitle(c: Comparison): string {
  return `Config differences (${c.configChanges.length})`;
}

function configTable(c: Comparison): CellTable {
  return { head: ['path', 'A', 'B'], rows: c.configChanges.map((change) => [change.path, show(change.a), show(change.b)]) };
}

/** Each metric's name, how a value prints (some need the rest of the run) and how a change prints. */
const FORMAT: Record<keyof RunMetrics, [string, (v: number | null, run: RunDetails) => string, (d: number) => string]> = {
  testAccuracy: ['test accuracy', (v) => percent(v), (d) => `${signed(d * 100, 2)} pts`],
  testLoss: ['test loss', (v) => fixed(v), (d) => signed(d, 4)],
  // How deep ASHA took each: `3/10 · asha` against `10/10` says why their scores differ.
  epochsDone: ['epochs', (_, run) => runEpochsLabel(run), (d) => signed(d, 0)],
  bestEpoch: ['best epoch', (v) => String(v ?? '—'), (d) => signed(d, 0)],
  seconds: ['training time', duration, (d) => `${signed(d, 1)}s`],
  paramCount: ['weights', (v) => v?.toLocaleString('en') ?? '—', (d) => `${d > 0 ? '+' : d < 0 ? '−' : '±'}${Math.abs(d).toLocaleString('en')}`],
};

function metricTable(c: Comparison): CellTable {
  const rows = c.metrics.map((m) => {
    const [name, format, formatDelta] = FORMAT[m.name];
    return [name, format(m.a, c.a), format(m.b, c.b), m.delta === null ? '—' : tone(m)(formatDelta(m.delta))];
  });
  return { head: ['metric', 'A', 'B', 'B − A'], rows, align: ['left', 'right', 'right', 'right'] };
}

function classTable(c: Comparison, classes: NonNullable<Comparison['classes']>): CellTable {
  const rows = classes.map((k) => [c.a.classes[k.classIndex]!, percent(k.recallA, 1), percent(k.recallB, 1), tone({ delta: k.delta, higherIsBetter: true })(`${signed(k.delta * 100, 1)} pts`)]);
  return { head: ['class', 'recall A', 'recall B', 'B − A'], rows, align: ['left', 'right', 'right', 'right'] };
}

function shiftSection(c: Comparison): string {
  const lines = c.confusionShifts.map((s) => {
    const [trueClass, predicted, rateA, rateB, delta] = shiftCells(c, s);
    return `  ${trueClass} taken for ${predicted}: ${rateA} → ${rateB} (${delta})`;
  });
  return `${title(SHIFTS_TITLE)}\n${lines.join('\n')}`;
}

function shiftTable(c: Comparison): CellTable {
  return { head: ['true class', 'taken for', 'A', 'B', 'B − A'], rows: c.confusionShifts.map((s) => shiftCells(c, s)), align: ['left', 'left', 'right', 'right', 'right'] };
}

function shiftCells(c: Comparison, s: ConfusionShift): string[] {
  const names = c.a.classes;
  return [names[s.trueClass]!, names[s.predicted]!, percent(s.rateA, 1), percent(s.rateB, 1), tone({ delta: s.delta, higherIsBetter: false })(`${signed(s.delta * 100, 1)} pts`)];
}

function tone(m: Pick<MetricDelta, 'delta' | 'higherIsBetter'>): (text: string) => string {
  if (m.higherIsBetter === null || !m.delta) return (text) => text;
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
