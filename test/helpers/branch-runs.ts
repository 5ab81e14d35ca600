import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runCli, tempDir } from './cli.js';

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
  /** Deletes the repository, the database and the models the sweeps saved beside it. */
  remove: () => void;
}

/**
 * A real database of real runs on two branches of a throwaway git repository: main sweeps units 8 and 16, then
 * branch `feature` changes the seed (which pairs ignore) and sweeps units 16 and 32, each with two repeats. So
 * units=16 is on both sides with different results, units=8 only on main and units=32 only on feature.
 */
export function makeBranchRuns(): BranchRuns {
  const repo = tempDir('runner-diff-');
  const db = join(tempDir('runner-db-'), 'runs.sqlite');
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], { cwd: repo, encoding: 'utf8' }).trim();
  const sweep = () => {
    const result = runCli(['sweep', join(repo, 'tiny.yaml'), '--backend', 'cpu', '--repeat', '2', '--db', db], { cwd: repo });
    if (result.status !== 0) throw new Error(`sweep failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  };
  git('init', '--quiet', '--initial-branch=main');
  writeFileSync(join(repo, 'tiny.yaml'), experiment([8, 16], 1));
  git('add', 'tiny.yaml');
  git('commit', '--quiet', '-m', 'tiny experiment');
  sweep();
  git('checkout', '--quiet', '-b', 'feature');
  writeFileSync(join(repo, 'tiny.yaml'), experiment([16, 32], 11));
  git('commit', '--quiet', '-am', 'other seeds, wider layer');
  sweep();
  const remove = () => [repo, dirname(db)].forEach((dir) => rmSync(dir, { recursive: true, force: true }));
  return { repo, db, mainCommit: git('rev-parse', 'main'), featureCommit: git('rev-parse', 'feature'), remove };
}
