import type { Run } from '../store/run-store.js';

/**
 * The runs made at a git ref. A branch name recorded on runs wins; otherwise the ref is a commit prefix, or
 * whatever `git rev-parse` made of it (a tag, HEAD~1, origin/main). Branch names are tried first on purpose:
 * a new branch starts at its parent's commit, so matching a branch by its tip commit would mix both sides.
 */
export function runsAtRef(runs: Run[], ref: string, resolvedCommit?: string): Run[] {
  const onBranch = runs.filter((r) => r.git.branch === ref);
  if (onBranch.length) return onBranch;
  if (/^[0-9a-f]{4,40}$/i.test(ref)) {
    const byPrefix = runs.filter((r) => r.git.commit?.startsWith(ref.toLowerCase()));
    if (byPrefix.length) return byPrefix;
  }
  return resolvedCommit ? runs.filter((r) => r.git.commit === resolvedCommit) : [];
}

/** Branches that have runs, with how many, for the error shown when a ref matches nothing. */
export function knownBranches(runs: Run[]): { branch: string; runs: number }[] {
  const counts = new Map<string, number>();
  for (const r of runs) if (r.git.branch) counts.set(r.git.branch, (counts.get(r.git.branch) ?? 0) + 1);
  return [...counts].map(([branch, n]) => ({ branch, runs: n }));
}
