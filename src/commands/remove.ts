import { confirm } from './confirm.js';
import { rmSync } from 'node:fs';
import prettyBytes from 'pretty-bytes';
import { UserError } from '../errors.js';
import { plural, timestamp } from '../ui/format.js';
import { diskUsage, folderOfRun, removeUnfinishedModels, runsDirFor } from '../store/run-folders.js';
import type { RemovableRun, RunStore } from '../store/run-store.js';
import { findRun } from './find-run.js';
import { openExistingStore } from './run-database.js';

export interface RemoveOptions {
  yes?: boolean;
  db?: string;
}

/** `runner rm RUN…`: deletes runs, their epochs and tags, and their `runs/<run-id>/` folders, after a confirmation. */
export async function removeCommand(refs: string[], options: RemoveOptions): Promise<number> {
  const store = openExistingStore(options.db);
  try {
    // A run whose runner died still says `running` until its lapsed lease is reclaimed; then it can go. Reclaimed runs
    // are interrupted ones: their checkpoints stay, for the next sweep to continue from.
    const runsDir = runsDirFor(store.path);
    removeUnfinishedModels(runsDir, store.reclaimLapsed());
    // Every reference is resolved before anything is deleted: one typo removes nothing.
    const runs = [...new Map(refs.map((ref) => findRun(store, ref)).map((run) => [run.id, run])).values()];
    const training = runs.filter((run) => run.status === 'running');
    if (training.length) {
      throw new UserError(`${training.map((run) => run.id).join(', ')} ${training.length === 1 ? 'is' : 'are'} still training (a runner keeps renewing ${training.length === 1 ? 'its lease' : 'their leases'}): stop that sweep first (Ctrl-C), then remove ${training.length === 1 ? 'it' : 'them'}`);
    }
    for (const run of runs) console.log(`  ${describe(run)}`);
    if (!options.yes && !(await confirm(`Remove ${plural(runs.length, 'run')} and their folders?`, 'not removing anything'))) {
      console.log('Nothing removed.');
      return 0;
    }
    console.log(removeRuns(store, runs));
    return 0;
  } finally {
    store.close();
  }
}

/** Deletes the rows, then the folders (a folder without its row is an orphan `gc` finds; a row without its folder would be a broken run). */
export function removeRuns(store: RunStore, runs: readonly RemovableRun[]): string {
  const runsDir = runsDirFor(store.path);
  const folders = runs.map((run) => folderOfRun(runsDir, run));
  const bytes = folders.reduce((sum, folder) => sum + diskUsage(folder), 0);
  store.removeRuns(runs.map((run) => run.id));
  folders.forEach((folder) => rmSync(folder, { recursive: true, force: true }));
  return `Removed ${plural(runs.length, 'run')}, freeing ${prettyBytes(bytes)} of run folders.`;
}

export function describe(run: RemovableRun): string {
  return `${run.id}  ${run.experiment}  ${run.status}  started ${timestamp(run.startedAt)}`;
}
