import { renderRunDetails } from '../report/render-show.js';
import { runDetails } from '../report/run-details.js';
import { findRun } from './find-run.js';
import { readingRuns } from './run-database.js';

export interface ShowOptions {
  json?: boolean;
  db?: string;
}

/** One run in detail: config, learning curves, confusion matrix, per-class metrics. */
export function showCommand(ref: string, options: ShowOptions): Promise<number> {
  return readingRuns(options.db, (store) => {
    const row = findRun(store, ref);
    const details = runDetails(row, store.epochs(row.id));
    console.log(options.json ? JSON.stringify(details, null, 2) : renderRunDetails(details));
    return 0;
  });
}
