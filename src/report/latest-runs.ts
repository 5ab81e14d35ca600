import type { Run } from '../store/run-store.js';

/**
 * `sweep --force` runs a trial again with the same seed; counting those runs as extra seeds would shrink the
 * spread over repeats and feed duplicates to the t-test. So per branch and trial (config hash, seed included)
 * only one run stays: the newest completed one, or the newest of any status when none completed.
 */
export function latestPerTrial(runs: Run[]): Run[] {
  const kept = new Map<string, Run>();
  for (const run of runs) {
    const current = kept.get(trialKey(run));
    if (!current || preferred(run, current)) kept.set(trialKey(run), run);
  }
  return runs.filter((run) => kept.get(trialKey(run)) === run);
}

function trialKey(run: Run): string {
  return `${run.git.branch}\u0000${run.configHash}`;
}

function preferred(run: Run, over: Run): boolean {
  const completed = (r: Run) => r.status === 'completed';
  if (completed(run) !== completed(over)) return completed(run);
  return run.startedAt > over.startedAt || (run.startedAt === over.startedAt && run.id > over.id);
}
