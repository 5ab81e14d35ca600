import { chmodSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * This user's own folder for the trials a worker trains, `$XDG_CACHE_HOME/runner/worker` (or ~/.cache/…), readable by
 * nobody else: a shared /tmp would let another user plant or read checkpoints.
 */
export function workerFolder(): string {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const folder = join(cache, 'runner', 'worker');
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  // mkdir's mode covers only folders it creates (and is masked by the umask): one made earlier is closed here too.
  chmodSync(folder, 0o700);
  return folder;
}

/**
 * The name of one trial's folder in `workerFolder()`, laid out as a run folder (store/run-folders.ts): its run and the
 * commit it was enqueued at (both checked formats), so that a trial pulled again on this machine goes on from its
 * checkpoint, and another sweep's run of the same config never does.
 */
export function trialFolderName(runId: string, commit: string | undefined): string {
  return `${runId}-${commit ?? 'nogit'}`;
}
