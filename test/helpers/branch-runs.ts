import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { inject } from 'vitest';
import { runCli, tempDir } from './cli.js';
import { waitFor } from './sweeps.js';

/** A tiny dense model: one epoch on 600 images trains in well under a second on the cpu backend. */
const experiment = (units: number[], seed: number) => `name: tiny
data: { trainLimit: 600, testLimit: 500 }
model:
  input: [28, 28, 1]
  layers:
    - { type: flatten }
    - { type: dense, units: 16, activation: relu }
    - { type: dense, units: 10, activation: softmax }
train:
  optimizer: { name: adam, learningRate: 0.01 }
  epochs: 2
  batchSize: 50
  seed: ${seed}
sweep:
  model.layers.1.units: [${units.join(', ')}]
`;

export interface BranchRuns {
  /** The git checkout the runs were made in; run `runner diff` here. */
  repo: string;
  db: string;
  mainCommit: string;
  featureCommit: string;
}

/**
 * A real database of real runs on two branches of a throwaway git repository under `root`: main sweeps units 8 and
 * 16, then branch `feature` changes the seed (which pairs ignore) and sweeps units 16 and 32, each with two repeats.
 * So units=16 is on both sides with different results, units=8 only on main and units=32 only on feature.
 */
async function trainBranchRuns(root: string): Promise<BranchRuns> {
  const repo = join(root, 'repo');
  const db = join(root, 'db', 'runs.sqlite');
  mkdirSync(repo);
  mkdirSync(dirname(db));
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], { cwd: repo, encoding: 'utf8' }).trim();
  const sweep = async () => {
    const result = await runCli(['sweep', join(repo, 'tiny.yaml'), '--backend', 'cpu', '--repeat', '2', '--db', db], { cwd: repo });
    if (result.status !== 0) throw new Error(`sweep failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  };
  git('init', '--quiet', '--initial-branch=main');
  writeFileSync(join(repo, 'tiny.yaml'), experiment([8, 16], 1));
  git('add', 'tiny.yaml');
  git('commit', '--quiet', '-m', 'tiny experiment');
  await sweep();
  git('checkout', '--quiet', '-b', 'feature');
  writeFileSync(join(repo, 'tiny.yaml'), experiment([16, 32], 11));
  git('commit', '--quiet', '-am', 'other seeds, wider layer');
  await sweep();
  return { repo, db, mainCommit: git('rev-parse', 'main'), featureCommit: git('rev-parse', 'feature') };
}

/**
 * The branch runs of this `vitest run`, for the test files that only read them: the first file to ask trains them
 * once, the others wait for it (files run in parallel processes; creating the folder is the lock). Read-only: a
 * file that adds runs takes `branchRunsCopy()`.
 */
export async function branchRuns(): Promise<BranchRuns> {
  const root = join(inject('sharedFixtures'), 'branch-runs');
  const ready = join(root, 'ready.json');
  const failed = join(root, 'failed.txt');
  try {
    mkdirSync(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    await waitFor(() => existsSync(ready) || existsSync(failed), 'another test file to train the branch runs', 110_000);
    if (existsSync(failed)) throw new Error(`training the branch runs failed in another test file:\n${readFileSync(failed, 'utf8')}`);
    return JSON.parse(readFileSync(ready, 'utf8')) as BranchRuns;
  }
  try {
    const runs = await trainBranchRuns(root);
    // Written whole, then renamed: a waiting file never reads half of it.
    writeFileSync(`${ready}.partial`, JSON.stringify(runs));
    renameSync(`${ready}.partial`, ready);
    return runs;
  } catch (error) {
    writeFileSync(failed, String((error as Error).stack ?? error));
    throw error;
  }
}

/** A copy of the branch runs that this test file may add runs to; the saved models of the shared runs stay where they are. */
export async function branchRunsCopy(): Promise<BranchRuns> {
  const shared = await branchRuns();
  const repo = join(tempDir('runner-diff-'), 'repo');
  cpSync(shared.repo, repo, { recursive: true });
  const db = join(tempDir('runner-db-'), 'runs.sqlite');
  const source = new Database(shared.db, { readonly: true, fileMustExist: true });
  await source.backup(db);
  source.close();
  return { ...shared, repo, db };
}
