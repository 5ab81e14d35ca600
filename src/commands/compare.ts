import { compareRuns } from '../report/compare.js';
import { comparisonMarkdown, renderComparison } from '../report/render-compare.js';
import { runDetails } from '../report/run-details.js';
import { findRun } from './find-run.js';
import { readingRuns } from './run-database.js';

export interface CompareOptions {
  json?: boolean;
  md?: boolean;
  db?: string;
}

/** Two runs side by side: config differences, metric deltas, per-class recall deltas. */
export function compareCommand(refA: string, refB: string, options: CompareOptions): Promise<number> {
  return readingRuns(options.db, (store) => {
    const [a, b] = [refA, refB].map((ref) => {
      const row = findRun(store, ref);
      return runDetails(row, store.epochs(row.id));
    });
    const comparison = compareRuns(a!, b!);
    console.log(options.json ? JSON.stringify(comparison, null, 2) : options.md ? comparisonMarkdown(comparison) : renderComparison(comparison));
    return 0;
  });
}
