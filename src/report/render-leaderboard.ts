import chalk from 'chalk';
import Table from 'cli-table3';
import { duration, shortKey } from '../ui/format.js';
import type { Leaderboard, Stat } from './leaderboard.js';

/** The leaderboard as a terminal table; colour lives here, not in the data. */
export function renderLeaderboard(board: Leaderboard): string {
  if (board.entries.length === 0) return 'No runs match: record some with `runner sweep experiments/quick.yaml`, or loosen the filters.';
  const fixed = ['test acc', 'test loss', 'epochs', 'time', 'runs', 'backend', 'branch'];
  const short = board.columns.map(shortKey);
  // A swept train.epochs beside the epochs run, or two layers' rates: the full path where the short one is taken.
  const headers = board.columns.map((key, i) => (fixed.includes(short[i]!) || short.indexOf(short[i]!) !== short.lastIndexOf(short[i]!) ? key : short[i]!));
  const table = new Table({
    head: ['#', 'experiment', ...headers, ...fixed].map((h) => chalk.bold(h)),
    style: { head: [], border: [], compact: true },
  });
  for (const e of board.entries) {
    table.push([
      e.rank,
      e.experiment,
      ...board.columns.map((c) => (c in e.params ? JSON.stringify(e.params[c]) : '')),
      pct(e.accuracy),
      num(e.loss),
      e.epochs,
      duration(e.seconds.mean),
      e.runIds.length === 1 ? e.runIds[0]! : `${e.runIds.length} seeds`,
      e.backend ?? '',
      e.branch ?? '',
    ]);
  }
  return table.toString();
}

function pct(s: Stat): string {
  if (s.mean === null) return '—';
  return s.std === null ? `${(s.mean * 100).toFixed(2)}%` : `${(s.mean * 100).toFixed(2)} ± ${(s.std * 100).toFixed(2)}%`;
}

function num(s: Stat): string {
  if (s.mean === null) return '—';
  return s.std === null ? s.mean.toFixed(4) : `${s.mean.toFixed(4)} ± ${s.std.toFixed(4)}`;
}
