import { leaderboard, rankMetricNamed, RANK_METRIC_NAMES } from '../report/leaderboard.js';
import { leaderboardCsv } from '../report/leaderboard-csv.js';
import { leaderboardMarkdown, renderLeaderboard } from '../report/render-leaderboard.js';
import type { RunStatus } from '../run-status.js';
import type { RunFilter } from '../store/run-store.js';
import { UserError } from '../errors.js';
import { outputFile } from './output-paths.js';
import { readingRuns } from './run-database.js';
import { parseTagFilter } from './tag.js';

export interface ReportOptions {
  top?: number;
  metric?: string;
  experiment?: string;
  branch?: string;
  status?: RunStatus;
  since?: string;
  tag?: string[];
  json?: boolean;
  csv?: boolean;
  md?: boolean;
  html?: string;
  dataDir?: string;
  db?: string;
}

export async function reportCommand(options: ReportOptions): Promise<number> {
  const metric = rankMetricNamed(options.metric ?? 'accuracy');
  if (!metric) throw new UserError(`--metric ${options.metric}: expected one of ${RANK_METRIC_NAMES.join(', ')}`);
  const filter: RunFilter = { experiment: options.experiment, branch: options.branch, since: since(options.since), status: options.status ?? 'completed', tags: parseTagFilter(options.tag) };
  const htmlFile = options.html === undefined ? undefined : outputFile(options.html, '--html');
  return readingRuns(options.db, async (store) => {
    const runs = store.runs(filter);
    const board = leaderboard(runs, { top: options.top, metric });
    if (htmlFile) {
      const { writeHtmlReport } = await import('./html-report.js');
      console.log(writeHtmlReport(store, runs, board, { file: htmlFile, dataDir: options.dataDir, filter }));
    } else if (options.json) console.log(JSON.stringify(board, null, 2));
    else if (options.csv) console.log(leaderboardCsv(board));
    else if (options.md) console.log(leaderboardMarkdown(board));
    else console.log(renderLeaderboard(board));
    return 0;
  });
}

/**
 * Start times are stored as ISO strings and compared as text, so the flag's date is normalised to one; only the
 * forms that normalise to a 4-digit year are taken (`Date.parse('99999')` is year 99999, which sorts before 2026).
 */
function since(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const time = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(time)) throw new UserError(`--since ${text}: expected a date such as 2025-01-31 or 2025-01-31T14:00`);
  return new Date(time).toISOString();
}
