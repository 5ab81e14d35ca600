import { duration, shortKey } from '../ui/format.js';
import type { Leaderboard, Stat } from './leaderboard.js';
import { markdownTable, terminalTable, type CellTable } from './tables.js';

const NO_RUNS = 'No runs match: record some with `runner sweep experiments/quick.yaml`, or loosen the filters.';

/** The leaderboard as a terminal table; colour lives here, not in the data. */
export function renderLeaderboard(board: Leaderboard): string {
  return board.entries.length ? terminalTable(leaderboardTable(board)) : NO_RUNS;
}

/** `runner report --md`: the same cells as a Markdown table. */
export function leaderboardMarkdown(board: Leaderboard): string {
  return board.entries.length ? markdownTable(leaderboardTable(board)) : NO_RUNS;
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
    e.epochs,
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
