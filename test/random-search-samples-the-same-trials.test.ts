import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir, writeTemp } from './helpers/cli.js';

const MODEL = `model:
  layers:
    - { type: flatten }
    - { type: dropout, name: drop, rate: 0.2 }
    - { type: dense, name: hidden, units: 32, activation: relu }
    - { type: dense, units: 10, activation: softmax }
train: { epochs: 4, seed: 42 }
`;

const RANDOM = `name: rs
${MODEL}sweep:
  train.optimizer.learningRate: { logUniform: [0.0001, 0.01] }
  model.layers.drop.rate: { uniform: [0.1, 0.5] }
  model.layers.hidden.units: { int: [16, 64] }
  train.optimizer.name: { choice: [adam, rmsprop] }
  train.batchSize: [32, 64]
search: { strategy: random, trials: 8, seed: 1 }
`;

const GRID = `name: rs
${MODEL}sweep:
  model.layers.drop.rate: [0.1, 0.3]
  train.batchSize: [32, 64]
`;

interface Row {
  label: string;
  hash: string;
  /** `4`, or `1 of 9` for ASHA: its first rung, of its top rung's epochs. */
  epochs: string;
}

/** The trials `sweep --dry-run` lists: each row's label (the experiment's name and its swept values), hash and epochs. */
function rowsOf(stdout: string): Row[] {
  return [...stdout.matchAll(/^│ (rs\b.*?)\s+│ ([0-9a-f]{16}) │.*?│.*?│ (\d+(?: of \d+)?)\s+│/gm)].map((m) => ({ label: m[1]!, hash: m[2]!, epochs: m[3]! }));
}

/** `learningRate=0.001 drop.rate=0.2 …` as numbers (or strings) by short key. */
function valuesOf(label: string): Record<string, number | string> {
  return Object.fromEntries(
    label
      .split(' ')
      .slice(1)
      .map((pair) => pair.split('='))
      .map(([key, value]) => [key!, Number.isNaN(Number(value)) ? value! : Number(value)]),
  );
}

async function dryRunOutput(file: string): Promise<string> {
  const result = await runCli(['sweep', file, '--dry-run', '--backend', 'cpu', '--db', join(tempDir(), 'none.sqlite')]);
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

async function dryRun(file: string): Promise<Row[]> {
  return rowsOf(await dryRunOutput(file));
}

describe('random search samples the same trials from the same file', () => {
  const dir = tempDir();
  const file = writeTemp('random.yaml', RANDOM, dir);

  it('lists the same trials, values and hashes on every run, each config distinct', async () => {
    const [first, second] = await Promise.all([dryRun(file), dryRun(file)]);
    expect(first).toHaveLength(8);
    expect(second).toEqual(first);
    expect(new Set(first.map((row) => row.hash)).size).toBe(8);
    expect(new Set(first.map((row) => row.label)).size).toBe(8);
  });

  it('samples other configs with another search.seed, and the same ones whatever train.seed and repeat', async () => {
    const [base, reseeded, otherTrainSeed, repeated] = await Promise.all([
      dryRun(file),
      dryRun(writeTemp('reseeded.yaml', RANDOM.replace('seed: 1 }', 'seed: 2 }'), dir)),
      dryRun(writeTemp('train-seed.yaml', RANDOM.replace('seed: 42', 'seed: 7'), dir)),
      dryRun(writeTemp('repeated.yaml', `repeat: 2\n${RANDOM}`, dir)),
    ]);
    const labels = (rows: Row[]) => rows.map((row) => row.label);
    expect(labels(reseeded)).not.toEqual(labels(base));
    expect(reseeded.filter((row) => base.some((b) => b.hash === row.hash))).toEqual([]);
    expect(labels(otherTrainSeed)).toEqual(labels(base));
    // Each sampled config twice, with seeds 42 and 43: the same configs, in the same order.
    expect(labels(repeated).filter((_, i) => i % 2 === 0)).toEqual(labels(base).map((label) => `${label} seed=42`));
  });

  it('draws each value within its distribution: whole numbers for int, four significant digits for real numbers', async () => {
    const rows = await dryRun(file);
    for (const row of rows) {
      const values = valuesOf(row.label);
      expect(values.learningRate, row.label).toBeGreaterThanOrEqual(0.0001);
      expect(values.learningRate, row.label).toBeLessThanOrEqual(0.01);
      expect(values['drop.rate'], row.label).toBeGreaterThanOrEqual(0.1);
      expect(values['drop.rate'], row.label).toBeLessThanOrEqual(0.5);
      expect(Number.isInteger(values['hidden.units']), row.label).toBe(true);
      expect(values['hidden.units'], row.label).toBeGreaterThanOrEqual(16);
      expect(values['hidden.units'], row.label).toBeLessThanOrEqual(64);
      expect(['adam', 'rmsprop'], row.label).toContain(values.name);
      expect([32, 64], row.label).toContain(values.batchSize);
      for (const real of [values.learningRate, values['drop.rate']]) expect(Number((real as number).toPrecision(4)), row.label).toBe(real);
    }
  });

  it('`validate --print` prints the search and its distributions as a file that samples the same trials', async () => {
    const printed = await runCli(['validate', '--print', file]);
    expect(printed.status, printed.stderr).toBe(0);
    expect(printed.stdout).toMatch(/^search:\n {2}strategy: random\n {2}trials: 8\n {2}seed: 1$/m);
    const saved = join(dir, 'saved.yaml');
    writeFileSync(saved, printed.stdout);
    expect(await dryRun(saved)).toEqual(await dryRun(file));
  });

  it('--max-trials refuses a random search of more trials, as it refuses a grid', async () => {
    const result = await runCli(['sweep', file, '--dry-run', '--max-trials', '5', '--db', join(tempDir(), 'none.sqlite')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${file}:15:29 search.trials: the random search has 8 trials (8 sampled configs), over the limit of 5`);
    expect(result.stderr).toContain('pass --max-trials 8 if you mean it');
  });
});

describe('asha trials are told apart from grid trials of the same configs', () => {
  it('shares no hash with the grid, trains to maxEpochs, and samples like random search', async () => {
    const dir = tempDir();
    const [grid, asha, random, ashaRandom] = await Promise.all([
      dryRun(writeTemp('grid.yaml', GRID, dir)),
      // maxEpochs the file's train.epochs: the config is the grid's in everything but how it is searched.
      dryRun(writeTemp('asha.yaml', `${GRID}search: { strategy: asha, maxEpochs: 4 }\n`, dir)),
      dryRun(writeTemp('random.yaml', RANDOM, dir)),
      dryRun(writeTemp('asha-random.yaml', RANDOM.replace('strategy: random', 'strategy: asha, candidates: random, maxEpochs: 9'), dir)),
    ]);
    expect(grid).toHaveLength(4);
    expect(asha.map((row) => row.label)).toEqual(grid.map((row) => row.label));
    expect(asha.filter((row) => grid.some((g) => g.hash === row.hash))).toEqual([]);
    expect(ashaRandom.map((row) => row.label)).toEqual(random.map((row) => row.label));
    expect(ashaRandom.filter((row) => random.some((r) => r.hash === row.hash))).toEqual([]);
    // The dry run lists what ASHA trains first: every config to its first rung.
    expect(ashaRandom.map((row) => row.epochs)).toEqual(random.map(() => '1 of 9'));
  });

  it('plan says what ASHA and random search train against the grid of the same configs', async () => {
    const dir = tempDir();
    const [asha, random] = await Promise.all([
      dryRunOutput(writeTemp('asha.yaml', `${GRID.replace('epochs: 4', 'epochs: 10')}search: { strategy: asha }\n`, dir)),
      dryRunOutput(writeTemp('random.yaml', RANDOM, dir)),
    ]);
    // 4 configs, η = 3: rungs at 1, 3, 9 and 10; halving trains 4 × 1 epochs, then the best one on: 2 + 6 + 1 more.
    expect(asha).toMatch(/asha\.yaml: ASHA over 4 configs, rungs at epochs 1, 3, 9, 10, .*: about 13 epochs in all .* against 40 for every config to the end \(33%\); the table lists its first rung/);
    expect(random).toMatch(/random\.yaml: random search, 8 configs sampled \(its distributions have no finite grid\): 32 epochs/);
  });
});
