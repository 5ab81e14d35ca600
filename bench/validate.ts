/**
 * `runner validate` on grids of 10^3, 10^4 and 10^5 trials (learning rates × seeds of one model, so that the
 * model is built once and the time left is the grid's own). Time per trial should stay flat as the grid grows.
 * Prints figures; asserts nothing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/package-root.js';

const CLI = join(packageRoot, 'dist', 'src', 'cli.js');

function grid(trials: number): string {
  const rates = Array.from({ length: trials / 100 }, (_, i) => Number((1e-4 * (1 + i)).toPrecision(6)));
  const seeds = Array.from({ length: 100 }, (_, i) => i);
  return `name: grid-${trials}
model:
  layers:
    - { type: flatten }
    - { type: dense, units: 10, activation: softmax }
sweep:
  train.optimizer.learningRate: [${rates.join(', ')}]
  train.seed: [${seeds.join(', ')}]
`;
}

export function benchValidate(sizes = [1_000, 10_000, 100_000]): void {
  const dir = mkdtempSync(join(tmpdir(), 'runner-bench-validate-'));
  try {
    console.log('## Validating large grids\n\n| trials | validate s | µs per trial |\n| --- | --- | --- |');
    for (const trials of sizes) {
      const file = join(dir, `grid-${trials}.yaml`);
      writeFileSync(file, grid(trials));
      const started = performance.now();
      const result = spawnSync(process.execPath, [CLI, 'validate', file, '--max-trials', String(trials)], { encoding: 'utf8' });
      const seconds = (performance.now() - started) / 1000;
      if (result.status !== 0) throw new Error(`validate of ${trials} trials exited ${result.status}: ${result.stderr}`);
      console.log(`| ${trials.toLocaleString('en-US')} | ${seconds.toFixed(2)} | ${((seconds * 1e6) / trials).toFixed(0)} |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
