import chalk from 'chalk';
import Table from 'cli-table3';
import { shortKey } from '../ui/format.js';
import { regressionGateFailure, type ConfigRef, type DiffPair, type DiffResult, type DiffSide, type OneSided } from './diff.js';
import { COMPACT_TABLE } from './terminal-charts.js';

/** Below this p-value a change is called significant; the usual 5%, stated in the output. */
const ALPHA = 0.05;

/** `runner diff`: one table of paired configs with coloured deltas, then the configs run on one side only. */
export function renderDiff(d: DiffResult): string {
  const parts = [`${chalk.bold('A')} ${d.refA}   ${chalk.bold('B')} ${d.refB}   ${chalk.dim('test accuracy; B − A in percentage points')}`];
  if (d.pairs.length) parts.push(pairTable(d));
  else parts.push(chalk.yellow('No config was run on both refs, so nothing can be compared.'));
  if (d.onlyA.length) parts.push(oneSided(`Only on ${d.refA}`, d.onlyA));
  if (d.onlyB.length) parts.push(oneSided(`Only on ${d.refB}`, d.onlyB));
  parts.push(summary(d));
  return parts.join('\n\n');
}

function pairTable(d: DiffResult): string {
  const table = new Table({
    head: ['experiment', 'config', d.refA, d.refB, 'B − A', 'significance'].map((h) => chalk.bold(h)),
    style: COMPACT_TABLE,
    colAligns: ['left', 'left', 'right', 'right', 'right', 'left'],
  });
  for (const p of d.pairs) table.push([p.experiment, label(p), value(p.a), value(p.b), delta(p), significance(p)]);
  return table.toString();
}

function oneSided(title: string, rows: OneSided[]): string {
  const lines = rows.map((r) => {
    const changes = r.changedFromOtherSide?.map((c) => `${c.path} ${JSON.stringify(c.a)} → ${JSON.stringify(c.b)}`);
    const note = changes?.length ? chalk.dim(`  (the other side ran this with ${changes.join(', ')})`) : '';
    return `  ${r.experiment} ${label(r)}: ${value(r.side)}${note}`;
  });
  return `${chalk.bold.underline(title)}\n${lines.join('\n')}`;
}

function summary(d: DiffResult): string {
  const better = d.pairs.filter((p) => (p.delta ?? 0) > 0).length;
  const worse = d.pairs.filter((p) => (p.delta ?? 0) < 0).length;
  const broken = d.pairs.filter((p) => p.brokenOnB).length;
  const counts = `${d.pairs.length} config${d.pairs.length === 1 ? '' : 's'} on both sides: ${chalk.green(`${better} better`)}, ${chalk.red(`${worse} worse`)}${broken ? `, ${chalk.red(`${broken} only failed on ${d.refB}`)}` : ''}`;
  if (d.threshold === null) return counts;
  const failure = regressionGateFailure(d);
  return failure ? `${counts}\n${chalk.red.bold(failure)}` : `${counts}; none lost more than ${(d.threshold * 100).toFixed(2)} pts`;
}

function label(c: ConfigRef): string {
  const params = Object.entries(c.params).map(([k, v]) => `${shortKey(k)}=${JSON.stringify(v)}`);
  return `${params.join(' ') || '(no sweep)'} ${chalk.dim(`#${c.configId}`)}`;
}

/** Mean ± std over the seeds, with the best seed, or the single run's accuracy; then the runs that broke. */
function value(side: DiffSide): string {
  const { mean, std, n } = side.accuracy;
  const pct = (v: number) => (v * 100).toFixed(2);
  const accuracy = mean === null ? null : n > 1 ? `${pct(mean)}% ± ${pct(std ?? 0)} (n=${n}, best ${pct(side.best!)}%)` : `${pct(mean)}%`;
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
  return points > 0 ? chalk.green(text) : points < 0 ? chalk.red(text) : text;
}

function significance(p: DiffPair): string {
  if (p.delta === null) return '';
  if (p.test) {
    const text = `p=${p.test.p < 0.001 ? '<0.001' : p.test.p.toFixed(3)}`;
    return p.test.p < ALPHA ? chalk.bold(`${text} significant`) : chalk.dim(`${text} within seed noise`);
  }
  if (p.a.accuracy.n < 2 || p.b.accuracy.n < 2) return chalk.dim('single runs: repeat with --repeat for a test');
  return chalk.dim('no spread between seeds');
}
