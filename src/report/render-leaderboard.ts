import chalk from 'chalk';
import { duration, epochsLabel, shortKey } from '../ui/format.js';
import type { Leaderboard, LeaderboardEntry, Stat } from './leaderboard.js';
import { markdownTable, terminalTable, type CellTable } from './tables.js';

const NO_RUNS = 'No runs match: record some with `runner sweep experiments/quick.yaml`, or loosen the filters.';

/** Said under a ranking that holds configs ASHA stopped early: their scores are from fewer epochs than their rivals'. */
export const PAUSED_LEGEND = 'n/N · asha: ASHA stopped this config at epoch n of N, a rung where it was not among the best; its test scores are from epoch n (from its best epoch up to n, with early stopping)';

/** The leaderboard as a terminal table; colour lives here, not in the data. */
export function renderLeaderboard(board: Leaderboard): string {
  if (!board.entries.length) return NO_RUNS;
  return [terminalTable(leaderboardTable(board)), ...(hasPaused(board) ? [chalk.dim(PAUSED_LEGEND)] : [])].join('\n');
}

/** `runner report --md`: the same cells as a Markdown table. */
export function leaderboardMarkdown(board: Leaderboard): string {
  if (!board.entries.length) return NO_RUNS;
  return [markdownTable(leaderboardTable(board)), ...(hasPaused(board) ? [PAUSED_LEGEND] : [])].join('\n\n');
}

/** The epochs column: `3/10 · asha` for a config ASHA stopped early, `10/10` for one at its top rung, else the count. */
export function entryEpochsLabel(e: LeaderboardEntry): string {
  return epochsLabel(e.epochs, e.rungs, e.epochBudget !== null);
}

/** Whether the ranking holds a config ASHA stopped early, which the legend then explains. */
export function hasPaused(board: Leaderboard): boolean {
  return board.entries.some((e) => e.epochBudget !== null);
}

function leaderboardTable(board: Leaderboard): CellTable {
  const fixed = ['test acc', 'test loss', 'epochs', 'time', 'runs', 'backend', 'branch'];
  const short = board.columns.map(shortKey);
  // A swept train.epochs beside the epochs run, or two layers' rates: the full path where the short one is taken.
  const headers = board.columns.map((key, i) => (fixed.includes(short[i]!) || short.indexOf(short[i]!) !== short.lastIndexOf(short[i]!) ? key : short[i]!));
  const rows = board.entries.map((e) => [
    e.rank,
    e.experiment,
    ...board.columns.map((c) => (c in e.params ? JSON.stringify(e.params[c]) : '')),
    pct(e.accuracy),
    num(e.loss),
    e.epochBudget === null ? entryEpochsLabel(e) : chalk.yellow(entryEpochsLabel(e)),
    duration(e.seconds.mean),
    e.runIds.length === 1 ? e.runIds[0]! : `${e.runIds.length} seeds`,
    e.backend ?? '',
    e.branch ?? '',
  ]);
  return { head: ['#', 'experiment', ...headers, ...fixed], rows };
}

function pct(s: Stat): string {
  if (s.mean === null) return '—';
  return s.std === null ? `${(s.mean * 100).toFixed(2)}%` : `${(s.mean * 100).toFixed(2)} ± ${(s.std * 100).toFixed(2)}%`;
}

function num(s: Stat): string {
  if (s.mean === null) return '—';
  return s.std === null ? s.mean.toFixed(4) : `${s.mean.toFixed(4)} ± ${s.std.toFixed(4)}`;
}
