import ms from 'ms';
import prettyBytes from 'pretty-bytes';
import { UserError } from '../errors.js';
import { databasesSharing, diskUsage, orphanFolders, removeRunFolder, removeUnfinishedModels, runFolder, runsDirFor } from '../store/run-folders.js';
import { plural } from '../ui/format.js';
import { describe, removeRuns } from './remove.js';
import { openExistingStore } from './run-database.js';

export interface GcOptions {
  olderThan?: string;
  dryRun?: boolean;
  db?: string;
}

/**
 * `runner gc`: removes the runs that did not complete (failed, diverged, interrupted), optionally only those older
 * than an age, and run folders the database does not know. Completed runs are baselines for `diff`; only `rm` removes them.
 */
export function gcCommand(options: GcOptions): number {
  const before = options.olderThan === undefined ? undefined : cutoff(options.olderThan);
  const store = openExistingStore(options.db);
  try {
    const runsDir = runsDirFor(store.path);
    removeUnfinishedModels(runsDir, store.reclaimLapsed());
    const runs = store.unfinishedRuns(before);
    const sharing = databasesSharing(runsDir, store.path);
    const unknown = orphanFolders(runsDir, store.runIds());
    // Another database's runs live in the same runs dir: a folder this one does not know may be one of its runs.
    const orphans = sharing.length ? [] : unknown;
    if (sharing.length && unknown.length) {
      console.log(`Kept ${plural(unknown.length, 'folder')} in ${runsDir} that this database does not know: ${sharing.join(', ')} ${sharing.length === 1 ? 'shares' : 'share'} that folder and may own them.`);
    }
    if (runs.length === 0 && orphans.length === 0) {
      console.log(`Nothing to remove: no failed, diverged or interrupted runs${before ? ` started before ${before.slice(0, 10)}` : ''}, and no orphaned folders in ${runsDir}.`);
      return 0;
    }
    for (const run of runs) console.log(`  ${describe(run)}`);
    for (const id of orphans) console.log(`  ${runFolder(runsDir, id)}  (folder without a run)`);
    if (options.dryRun) {
      console.log(`Would remove ${plural(runs.length, 'run')} and ${plural(orphans.length, 'orphaned folder')} (--dry-run: nothing removed).`);
      return 0;
    }
    const orphanBytes = orphans.reduce((sum, id) => sum + diskUsage(runFolder(runsDir, id)), 0);
    if (runs.length) console.log(removeRuns(store, runs));
    orphans.forEach((id) => removeRunFolder(runsDir, id));
    if (orphans.length) console.log(`Removed ${plural(orphans.length, 'orphaned folder')}, freeing ${prettyBytes(orphanBytes)}.`);
    return 0;
  } finally {
    store.close();
  }
}

/** `30d`, `12h`, `2w` → the ISO time that long ago; a bare number would be milliseconds to `ms`, so a unit is required. */
function cutoff(age: string): string {
  const millis = /^\d+(\.\d+)?\s*[a-z]+$/i.test(age.trim()) ? ms(age as ms.StringValue) : NaN;
  const then = Date.now() - millis;
  if (typeof millis !== 'number' || !Number.isFinite(millis) || millis <= 0 || Number.isNaN(new Date(then).getTime())) {
    throw new UserError(`--older-than ${age}: expected an age such as 30d, 12h or 2w`);
  }
  return new Date(then).toISOString();
}
