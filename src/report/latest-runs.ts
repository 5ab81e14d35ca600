import type { RunRow } from '../store/run-store.js';

/**
 * `sweep --force` runs a trial again with the same seed; counting those runs as extra seeds would shrink the
 * spread over repeats and feed duplicates to the t-test. So per branch and trial (config hash, seed included)
 * only one run stays: the newest completed one, or the newest of any status when none completed.
 */
export function latestPerTrial(runs: RunRow[]): RunRow[] {
  const kept = new Map<string, RunRow>();
  for (const run of runs) {
    const current = kept.get(trialKey(run));
    if (!current || preferred(run, current)) kept.set(trialKey(run), run);
  }
  return runs.filter((run) => kept.get(trialKey(run)) === run);
}

function trialKey(run: RunRow): string {
  return `${run.git_branch}\u0000${run.config_hash}`;
}

function preferred(run: RunRow, over: RunRow): boolean {
  const completed = (r: RunRow) => r.status === 'completed';
  if (completed(run) !== completed(over)) return completed(run);
  return run.started_at > over.started_at || (run.started_at === over.started_at && run.id > over.id);
}
