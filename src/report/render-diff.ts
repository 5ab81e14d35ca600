import chalk from 'chalk';
import { epochsLabel, paramLabels, plural } from '../ui/format.js';
import { regressionGateFailure, type ConfigRef, type DiffPair, type DiffResult, type DiffSide, type OneSided } from './diff.js';
import { markdownTable, markdownText, terminalTable, type CellTable } from './tables.js';

/** Below this p-value a change is called significant; the usual 5%, stated in the output. */
const ALPHA = 0.05;

/** `runner diff`: one table of paired configs with coloured deltas, then the configs run on one side only. */
export function renderDiff(d: DiffResult): string {
  const parts = [`${chalk.bold('A')} ${d.refA}   ${chalk.bold('B')} ${d.refB}   ${chalk.dim(LEGEND)}`];
  parts.push(d.pairs.length ? terminalTable(pairTable(d)) : chalk.yellow(NOTHING_PAIRED));
  if (d.onlyA.length) parts.push(oneSided(`Only on ${d.refA}`, d.onlyA));
  if (d.onlyB.length) parts.push(oneSided(`Only on ${d.refB}`, d.onlyB));
  parts.push(summary(d));
  return parts.join('\n\n');
}

/** `runner diff --md`: the same cells as Markdown tables, for a pull-request comment. */
export function diffMarkdown(d: DiffResult): string {
  const parts = [`**A** ${d.refA} · **B** ${d.refB} · ${LEGEND}`];
  parts.push(d.pairs.length ? markdownTable(pairTable(d)) : NOTHING_PAIRED);
  if (d.onlyA.length) parts.push(`**Only on ${d.refA}**`, markdownTable(oneSidedTable(d.onlyA)));
  if (d.onlyB.length) parts.push(`**Only on ${d.refB}**`, markdownTable(oneSidedTable(d.onlyB)));
  parts.push(markdownText(summary(d)));
  return parts.join('\n\n');
}

const LEGEND = 'test accuracy; B − A in percentage points';
const NOTHING_PAIRED = 'No config was run on both refs, so nothing can be compared.';

function pairTable(d: DiffResult): CellTable {
  return {
    head: ['experiment', 'config', d.refA, d.refB, 'B − A', 'significance'],
    rows: d.pairs.map((p) => [p.experiment, label(p), value(p.a, p.rungs), value(p.b, p.rungs), delta(p), significance(p)]),
    align: ['left', 'left', 'right', 'right', 'right', 'left'],
  };
}

function oneSided(title: string, rows: OneSided[]): string {
  const lines = rows.map((r) => {
    const note = changedFromOtherSide(r);
    return `  ${r.experiment} ${label(r)}: ${value(r.side, r.rungs)}${note ? chalk.dim(`  (the other side ran this with ${note})`) : ''}`;
  });
  return `${chalk.bold.underline(title)}\n${lines.join('\n')}`;
}

function oneSidedTable(rows: OneSided[]): CellTable {
  return { head: ['experiment', 'config', 'test accuracy', 'the other side ran this with'], rows: rows.map((r) => [r.experiment, label(r), value(r.side, r.rungs), changedFromOtherSide(r)]) };
}

function changedFromOtherSide(r: OneSided): string {
  return (r.changedFromOtherSide ?? []).map((c) => `${c.path} ${JSON.stringify(c.a)} → ${JSON.stringify(c.b)}`).join(', ');
}

function summary(d: DiffResult): string {
  const better = d.pairs.filter((p) => p.sameDepth && (p.delta ?? 0) > 0).length;
  const worse = d.pairs.filter((p) => p.sameDepth && (p.delta ?? 0) < 0).length;
  const broken = d.pairs.filter((p) => p.brokenOnB).length;
  const deeper = d.pairs.filter((p) => !p.sameDepth).length;
  const counts =
    `${plural(d.pairs.length, 'config')} on both sides: ${chalk.green(`${better} better`)}, ${chalk.red(`${worse} worse`)}` +
    `${broken ? `, ${chalk.red(`${broken} only failed on ${d.refB}`)}` : ''}${deeper ? `, ${chalk.yellow(`${deeper} stopped by ASHA at different depths`)}` : ''}`;
  if (d.threshold === null) return counts;
  const failure = regressionGateFailure(d);
  return failure ? `${counts}\n${chalk.red.bold(failure)}` : `${counts}; none lost more than ${(d.threshold * 100).toFixed(2)} pts`;
}

function label(c: ConfigRef): string {
  const params = paramLabels(c.params);
  return `${params.join(' ') || '(no sweep)'} ${chalk.dim(`#${c.configId}`)}`;
}

/**
 * Mean ± std over the seeds, with the best seed, or the single run's accuracy, and for an ASHA config the depth it
 * was scored at (`@ 3/10 · asha`); then the runs that broke.
 */
function value(side: DiffSide, rungs: number[] | null): string {
  const { mean, std, n } = side.accuracy;
  const pct = (v: number) => (v * 100).toFixed(2);
  const depth = rungs && side.epochs !== null ? ` @ ${epochsLabel(side.epochs, rungs, side.paused > 0)}` : '';
  const accuracy = mean === null ? null : (n > 1 ? `${pct(mean)}% ± ${pct(std ?? 0)} (n=${n}, best ${pct(side.best!)}%)` : `${pct(mean)}%`) + depth;
  const broken = [side.failed && `${side.failed} failed`, side.diverged && `${side.diverged} diverged`].filter(Boolean).join(', ');
  if (!broken) return accuracy ?? '—';
  return accuracy ? `${accuracy} ${chalk.dim(`+ ${broken}`)}` : chalk.red(broken);
}

function delta(p: DiffPair): string {
  if (p.brokenOnB) return p.regression ? chalk.red.bold('failed on B ✗') : chalk.red('failed on B');
  if (p.delta === null) return '—';
  const points = p.delta * 100;
  const text = `${points > 0 ? '+' : points < 0 ? '−' : '±'}${Math.abs(points).toFixed(2)} pts`;
  if (p.regression) return chalk.red.bold(`${text} ✗`);
  if (!p.sameDepth) return chalk.dim(text);
  return points > 0 ? chalk.green(text) : points < 0 ? chalk.red(text) : text;
}

function significance(p: DiffPair): string {
  if (p.delta === null) return '';
  if (!p.sameDepth) return chalk.yellow('ASHA stopped it at different depths: not comparable');
  if (p.test) {
    const text = `p=${p.test.p < 0.001 ? '<0.001' : p.test.p.toFixed(3)}`;
    return p.test.p < ALPHA ? chalk.bold(`${text} significant`) : chalk.dim(`${text} within seed noise`);
  }
  if (p.a.accuracy.n < 2 || p.b.accuracy.n < 2) return chalk.dim('single runs: repeat with --repeat for a test');
  return chalk.dim('no spread between seeds');
}
