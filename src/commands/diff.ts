import { UserError } from '../errors.js';
import { gitInfo, revParse } from '../git.js';
import { diffRuns, regressionGateFailure } from '../report/diff.js';
import { knownBranches, runsAtRef } from '../report/refs.js';
import { diffMarkdown, renderDiff } from '../report/render-diff.js';
import type { Run } from '../store/run-store.js';
import { readingRuns } from './run-database.js';

export interface DiffOptions {
  experiment?: string;
  /** Percentage points of test accuracy, as typed. */
  failOnRegression?: string;
  json?: boolean;
  md?: boolean;
  db?: string;
}

/** Results of the same configs on two git refs (default: main and the current branch); exit 1 on a regression when asked. */
export async function diffCommand(refA: string | undefined, refB: string | undefined, options: DiffOptions): Promise<number> {
  const threshold = options.failOnRegression === undefined ? undefined : points(options.failOnRegression);
  const a = refA ?? 'main';
  const b = refB ?? currentBranch();
  if (a === b) throw new UserError(`both sides of the diff are ${a}: name the refs to compare, e.g. \`runner diff main my-branch\``);
  return readingRuns(options.db, (store) => {
    const runs = store.runs({ experiment: options.experiment });
    const result = diffRuns(a, sideRuns(runs, a), b, sideRuns(runs, b), { threshold });
    const failure = regressionGateFailure(result);
    if (options.json) {
      console.log(JSON.stringify(result, null, 2));
      if (failure) console.error(failure);
    } else console.log(options.md ? diffMarkdown(result) : renderDiff(result));
    return failure ? 1 : 0;
  });
}

function sideRuns(runs: Run[], ref: string): Run[] {
  const found = runsAtRef(runs, ref, revParse(ref));
  if (found.length) return found;
  const branches = knownBranches(runs).map((k) => `${k.branch} (${k.runs})`);
  throw new UserError(`no runs at ${ref}: it is neither a branch recorded on a run nor a commit of one${branches.length ? `; branches with runs: ${branches.join(', ')}` : ''}`);
}

/** --fail-on-regression is in percentage points (0.5 = half a point of accuracy); the diff works in fractions. */
function points(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new UserError(`--fail-on-regression must be a non-negative number of accuracy points, got ${JSON.stringify(text)}`);
  return value / 100;
}

function currentBranch(): string {
  const branch = gitInfo().branch;
  if (!branch) throw new UserError('not in a git checkout, so there is no current branch: name both refs, e.g. `runner diff main feature`');
  return branch;
}
