import chalk from 'chalk';
import Table from 'cli-table3';
import { Document, isScalar, isSeq, visit } from 'yaml';
import { duration, fixed, paramLabels, percent, plural, tagLabels, timestamp } from '../ui/format.js';
import { COMPACT_TABLE, STATUS_COLOUR } from '../ui/terminal-style.js';
import { ashaDepth, metricName, type AshaDepth } from './depth.js';
import { sweepParams } from './run-config.js';
import { rowRates, topConfusions, type RunDetails } from './run-details.js';
import { heatmap, sparkline } from './terminal-charts.js';

/** `runner show`: one run's config, learning curves, confusion matrix and per-class metrics. */
export function renderRunDetails(run: RunDetails): string {
  return [header(run), section('Config', indent(configYaml(run.config))), curves(run), confusion(run), perClass(run), frequentConfusions(run)]
    .filter((part): part is string => part !== null)
    .join('\n\n');
}

function header(run: RunDetails): string {
  const { git } = run;
  const where = git.branch ? `branch ${git.branch}${git.commit ? ` @ ${git.commit.slice(0, 8)}` : ''}${git.dirty ? ' (uncommitted changes)' : ''}` : 'no git';
  const facts = [run.file, where, `backend ${run.backend ?? '—'}${run.device ? ` on ${run.device.device || run.device.architecture} (${run.device.description})` : run.gpu ? ' (GPU)' : ''}`, `seed ${run.seed}`, `started ${timestamp(run.startedAt)}`];
  const params = paramLabels(sweepParams(run));
  return [
    `${chalk.bold(`Run ${run.id}`)}  ${run.experiment}  ${STATUS_COLOUR[run.status](run.status)}`,
    `  ${facts.join(' · ')}`,
    ...(params.length ? [`  params ${params.join(' ')}`] : []),
    `  test accuracy ${chalk.bold(percent(run.testAccuracy))}  test loss ${fixed(run.testLoss)}  ${plural(run.epochsDone, 'epoch')}` +
      `${run.bestEpoch ? ` (best ${run.bestEpoch})` : ''}  ${duration(run.seconds)}  ${run.paramCount?.toLocaleString('en') ?? '—'} weights`,
    ...depthLine(run),
    ...(Object.keys(run.tags).length ? [`  tags ${tagLabels(run.tags)}`] : []),
    ...(run.note ? [`  note ${chalk.italic(run.note)}`] : []),
    ...(run.error ? [chalk.red(`  error: ${run.error}`)] : []),
  ].join('\n');
}

/** How deep ASHA took the run and why it stopped there, and how often it went on from a checkpoint; nothing for a plain run trained in one go. */
function depthLine(run: RunDetails): string[] {
  const depth = ashaDepth(run);
  const continued = run.attempts > 1 ? `continued ${run.attempts - 1}× from its checkpoint` : null;
  const parts = [depth && ashaSentence(run, depth), continued].filter((part): part is string => part !== null);
  return parts.length ? [`  ${parts.join(' · ')}`] : [];
}

function ashaSentence(run: RunDetails, d: AshaDepth): string {
  const top = d.rungs[d.rungs.length - 1]!;
  const reached = d.rung ? `past rung ${d.rung} of ${d.rungs.length} (epoch ${d.rungs[d.rung - 1]})` : `before its first rung (epoch ${d.rungs[0]})`;
  if (d.paused) {
    const next = d.rungs[d.rung] ?? top;
    return (
      `${chalk.yellow(`stopped by ASHA at rung ${d.rung} of ${d.rungs.length} (epoch ${run.epochsDone} of ${top})`)}: only the best 1/${d.reduction} of rung ${d.rung} ` +
      `by ${metricName(d.metric)} went on to epoch ${next}; its test scores are from epoch ${run.bestEpoch ?? run.epochsDone}`
    );
  }
  switch (run.status) {
    case 'completed':
      return run.epochsDone >= top ? `trained to the top rung (epoch ${top}) of ASHA's rungs at epochs ${d.rungs.join(', ')}` : `early stopping ended it at epoch ${run.epochsDone} of ${top}, ${reached}`;
    case 'running':
      return `ASHA is training it towards epoch ${run.epochBudget ?? top} of ${top}, ${reached}`;
    case 'interrupted':
      return `interrupted on its way to epoch ${run.epochBudget ?? top} of ${top}, ${reached}; the next sweep continues it`;
    default:
      return `${run.status} at epoch ${run.epochsDone} of ${top}, ${reached}`;
  }
}

function curves(run: RunDetails): string | null {
  if (run.epochs.length === 0) return null;
  const series: [string, (number | null)[], (v: number) => string][] = [
    ['loss', run.epochs.map((e) => e.loss), (v) => v.toFixed(4)],
    ['val loss', run.epochs.map((e) => e.valLoss), (v) => v.toFixed(4)],
    ['accuracy', run.epochs.map((e) => e.accuracy), (v) => percent(v)],
    ['val accuracy', run.epochs.map((e) => e.valAccuracy), (v) => percent(v)],
  ];
  const lines = series.map(([name, values, format]) => {
    const known = values.filter((v): v is number => v !== null);
    const span = known.length ? `${format(known[0]!)} → ${format(known[known.length - 1]!)}` : '—';
    return `  ${name.padEnd(13)}${chalk.cyan(sparkline(values))}  ${span}`;
  });
  return section(`Learning curves (${plural(run.epochs.length, 'epoch')})`, lines.join('\n'));
}

function confusion(run: RunDetails): string | null {
  if (!run.confusion) return null;
  const rates = rowRates(run.confusion);
  const map = heatmap({
    rowLabels: run.classes,
    columnLabels: run.classes.map((name) => name.slice(0, 5)),
    cells: run.confusion.map((row) => row.map(String)),
    // Off-diagonal shares are small; tripling them makes a 10% confusion stand out as clearly as it matters.
    shade: (r, c) => (r === c ? { intensity: rates[r]![c]!, good: true } : { intensity: rates[r]![c]! * 3, good: false }),
  });
  return section('Confusion matrix (rows: true class, columns: predicted)', indent(map));
}

function perClass(run: RunDetails): string | null {
  if (!run.classMetrics) return null;
  const table = new Table({ head: ['class', 'precision', 'recall', 'F1', 'support'].map((h) => chalk.bold(h)), style: COMPACT_TABLE, colAligns: ['left', 'right', 'right', 'right', 'right'] });
  run.classMetrics.forEach((m, k) => table.push([run.classes[k]!, percent(m.precision, 1), percent(m.recall, 1), percent(m.f1, 1), m.support]));
  return section('Per-class metrics', indent(table.toString()));
}

function frequentConfusions(run: RunDetails): string | null {
  if (!run.confusion) return null;
  const top = topConfusions(run.confusion, 5);
  const lines = top.map((c) => `  ${run.classes[c.trueClass]} taken for ${run.classes[c.predicted]}: ${chalk.bold(c.count)} ${chalk.dim(`(${percent(c.rate, 1)} of ${run.classes[c.trueClass]})`)}`);
  return section('Most frequent confusions', lines.length ? lines.join('\n') : '  none: every test sample was classified correctly');
}

/** The config as YAML, with each layer and each list of numbers on one line, as people write experiment files. */
function configYaml(config: unknown): string {
  const doc = new Document(config);
  visit(doc, {
    Collection(_, node, path) {
      const scalarsOnly = node.items.every((item) => isScalar(isSeq(node) ? item : (item as { value: unknown }).value));
      if (scalarsOnly && (isSeq(node) || isSeq(path[path.length - 1]))) node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0 }).trimEnd();
}

function section(title: string, body: string): string {
  return `${chalk.bold.underline(title)}\n${body}`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
