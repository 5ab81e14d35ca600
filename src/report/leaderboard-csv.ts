import type { Leaderboard } from './leaderboard.js';

/** `runner report --csv`: one line per entry, parameter columns included, run ids space-separated in one cell. */
export function leaderboardCsv(board: Leaderboard): string {
  const head = ['rank', 'experiment', ...board.columns, 'test_accuracy_mean', 'test_accuracy_std', 'test_loss_mean', 'epochs', 'seconds_mean', 'runs', 'backend', 'branch'];
  const rows = board.entries.map((e) =>
    [e.rank, e.experiment, ...board.columns.map((c) => e.params[c]), e.accuracy.mean, e.accuracy.std, e.loss.mean, e.epochs, e.seconds.mean, e.runIds.join(' '), e.backend, e.branch].map(cell).join(','),
  );
  return [head.join(','), ...rows].join('\n');
}

/** RFC 4180: a cell with a comma, quote or newline is quoted; parameter values that are not strings are written as JSON. */
function cell(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
