import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadExperiment } from '../src/config/load-experiment.js';
import type { DiffResult } from '../src/report/diff.js';
import type { Leaderboard } from '../src/report/leaderboard.js';
import { expandTrials, type TrialSpec } from '../src/sweep/expand.js';
import { RunStore, type RunOutcome } from '../src/store/run-store.js';
import { CLI, runCli, tempDir, writeTemp } from './helpers/cli.js';

/**
 * Run records written straight through the store, from trials the sweep's own expansion made, so that grouping
 * and pairing are checked against the sweep's idea of a trial without training anything.
 */
const experiment = (options: { description?: string; path?: string; units?: number[]; rates?: number[] } = {}) => `name: tiny
description: ${options.description ?? 'a tiny dense model'}
data: { trainLimit: 600, testLimit: 500${options.path ? `, path: ${options.path}` : ''} }
model:
  input: [28, 28, 1]
  layers:
    - { type: flatten }
    - { type: dense, units: 16, activation: relu }
    - { type: dense, units: 10, activation: softmax }
train: { epochs: 1, seed: 1 }
sweep:
  model.layers.1.units: [${(options.units ?? [16]).join(', ')}]
  train.optimizer.learningRate: [${(options.rates ?? [0.01]).join(', ')}]
`;

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function trials(yaml: string, repeat = 1): TrialSpec[] {
  const dir = tempDir();
  dirs.push(dir);
  return expandTrials(loadExperiment(writeTemp('tiny.yaml', yaml, dir)), { repeat });
}

/** A database in a directory of its own, and a function that records one finished run of a trial in it. */
function database() {
  const dir = tempDir('runner-db-');
  dirs.push(dir);
  const db = join(dir, 'runs.sqlite');
  const store = new RunStore(db);
  const sweepId = store.startSweep('test');
  let next = 0;
  const record = (spec: TrialSpec, branch: string, outcome: RunOutcome) => {
    // Ids in recording order, so runs started within one millisecond still have an order.
    const id = `run-${String(next++).padStart(3, '0')}`;
    store.startRun({ id, sweepId, experiment: spec.experiment, file: 'tiny.yaml', config: spec.config, configHash: spec.hash, params: spec.params, seed: spec.config.train.seed, repeatIndex: spec.repeatIndex, git: { branch, commit: `${branch}0000` }, backend: 'cpu' });
    store.finishRun(id, { seconds: 1, testLoss: 0.5, ...outcome });
    return id;
  };
  const cli = (...args: string[]) => runCli([...args, '--db', db], { cwd: dir });
  return { record, cli, close: () => store.close() };
}

const completed = (accuracy: number): RunOutcome => ({ status: 'completed', testAccuracy: accuracy });

/** One completed run on main per edited version of the tiny experiment, each less accurate than the one before. */
function editedRuns(...edits: ((yaml: string) => string)[]) {
  const { record, cli, close } = database();
  edits.forEach((edit, i) => record(trials(edit(experiment()))[0]!, 'main', completed(0.8 - 0.05 * i)));
  close();
  return cli;
}

describe('runner diff pairs a trial the way the sweep identifies it', () => {
  it('pairs a config whose branch changed only its description or data path', async () => {
    const { record, cli, close } = database();
    const [main] = trials(experiment());
    const [described] = trials(experiment({ description: 'the same model, described better' }));
    const [moved] = trials(experiment({ path: '/srv/fashion-mnist' }));
    // The sweep already treats these as one trial: the same hash, so it would skip them as done.
    expect(described!.hash).toBe(main!.hash);
    expect(moved!.hash).toBe(main!.hash);
    record(main!, 'main', completed(0.8));
    record(described!, 'docs', completed(0.81));
    record(moved!, 'moved', completed(0.79));
    close();
    for (const [branch, delta] of [['docs', 0.01], ['moved', -0.01]] as const) {
      const diff = JSON.parse((await cli('diff', 'main', branch, '--json')).stdout) as DiffResult;
      expect(diff.pairs).toHaveLength(1);
      expect(diff.pairs[0]!.delta).toBeCloseTo(delta, 12);
      expect(diff.onlyA).toEqual([]);
      expect(diff.onlyB).toEqual([]);
    }
  });
});

describe('runner diff --fail-on-regression', () => {
  it('fails with a clear line when no config ran on both refs', async () => {
    const { record, cli, close } = database();
    const [narrow] = trials(experiment({ units: [8] }));
    const [wide] = trials(experiment({ units: [32] }));
    record(narrow!, 'main', completed(0.8));
    record(wide!, 'feature', completed(0.9));
    close();
    const gated = await cli('diff', 'main', 'feature', '--fail-on-regression', '0.5');
    expect(gated.status).toBe(1);
    expect(gated.stdout).toContain('--fail-on-regression: no config has results on both main and feature, so nothing was compared');
    const json = await cli('diff', 'main', 'feature', '--fail-on-regression', '0.5', '--json');
    expect(json.status).toBe(1);
    expect(json.stderr).toContain('nothing was compared');
    expect((JSON.parse(json.stdout) as DiffResult).compared).toBe(0);
    // Without the gate there is nothing to fail.
    expect((await cli('diff', 'main', 'feature')).status).toBe(0);
  });

  it('counts a config that completed on A but only failed or diverged on B as a regression', async () => {
    const { record, cli, close } = database();
    const [kept, broken] = trials(experiment({ units: [8, 16] }), 1);
    record(kept!, 'main', completed(0.8));
    record(broken!, 'main', completed(0.8));
    record(kept!, 'feature', completed(0.8));
    record(broken!, 'feature', { status: 'diverged', error: 'loss became NaN at epoch 1' });
    close();
    const gated = await cli('diff', 'main', 'feature', '--fail-on-regression', '0.5');
    expect(gated.status).toBe(1);
    expect(gated.stdout).toMatch(/1\.units=16 learningRate=0\.01 #[0-9a-f]{8}\s+│\s+80\.00%\s+│\s+1 diverged\s+│\s+failed on B ✗/);
    expect(gated.stdout).toContain('--fail-on-regression: 1 config only failed on feature');
    const diff = JSON.parse((await cli('diff', 'main', 'feature', '--fail-on-regression', '0.5', '--json')).stdout) as DiffResult;
    const byUnits = (x: unknown[], y: unknown[]) => (x[0] as number) - (y[0] as number);
    expect(diff.pairs.map((p) => [p.params['model.layers.1.units'], p.brokenOnB, p.regression]).sort(byUnits)).toEqual([
      [8, false, false],
      [16, true, true],
    ]);
    expect(diff).toMatchObject({ compared: 2, regressions: 1 });
    // The other way round, the config was repaired: no regression.
    expect((await cli('diff', 'feature', 'main', '--fail-on-regression', '0.5')).status).toBe(0);
  });
});

describe('runner report', () => {
  it('--top keeps the parameter columns that tell the shown rows from the others', async () => {
    const { record, cli, close } = database();
    const grid = trials(experiment({ units: [8, 16], rates: [0.01, 0.001] }));
    // The two best agree on units=16 and differ in learning rate.
    const accuracy = (t: TrialSpec) => (t.params['model.layers.1.units'] === 16 ? 0.85 : 0.75) + (t.params['train.optimizer.learningRate'] as number);
    grid.forEach((t) => record(t, 'main', completed(accuracy(t))));
    close();
    const board = JSON.parse((await cli('report', '--top', '2', '--json')).stdout) as Leaderboard;
    expect(board.entries.map((e) => e.params['model.layers.1.units'])).toEqual([16, 16]);
    expect(board.columns.sort()).toEqual(['model.layers.1.units', 'train.optimizer.learningRate']);
    expect((await cli('report', '--top', '2')).stdout).toMatch(/│ 1\.units\s+│ learningRate\s+│/);
  });

  it('pools swept seeds into one entry with no seed column, also for runs recorded with the old train.seed label', async () => {
    const { record, cli, close } = database();
    const seeds = trials(experiment().replace('train.optimizer.learningRate: [0.01]', 'train.seed: [1, 5]'), 2);
    expect(seeds.map((t) => t.params)).toEqual([{ 'model.layers.1.units': 16, seed: 1 }, { 'model.layers.1.units': 16, seed: 2 }, { 'model.layers.1.units': 16, seed: 5 }, { 'model.layers.1.units': 16, seed: 6 }]);
    const [old, ...current] = seeds;
    record({ ...old!, params: { 'model.layers.1.units': 16, 'train.seed': 1, seed: 1 } }, 'main', completed(0.8));
    current.forEach((t) => record(t, 'main', completed(0.8)));
    close();
    const board = JSON.parse((await cli('report', '--json')).stdout) as Leaderboard;
    expect(board.entries).toHaveLength(1);
    expect(board.entries[0]!.accuracy.n).toBe(4);
    expect(board.entries[0]!.params).toEqual({ 'model.layers.1.units': 16 });
  });

  it('tells apart runs of an edited file: the fields that changed become columns, or one config column when many did', async () => {
    const cli = editedRuns(
      (yaml) => yaml,
      (yaml) => yaml.replace('activation: relu', 'activation: tanh'),
      (yaml) => yaml.replace('    - { type: flatten }\n', '    - { type: flatten }\n    - { type: dense, units: 32, activation: relu }\n'),
    );
    const board = JSON.parse((await cli('report', '--json')).stdout) as Leaderboard;
    // Against the deeper model every layer after the first differs; relu against tanh differs in one field.
    expect(board.entries.map((e) => e.params['model.layers.1.activation'] ?? null)).toEqual([null, null, null]);
    expect(board.entries.map((e) => e.params.config)).toEqual([expect.stringMatching(/^[0-9a-f]{8}$/), expect.stringMatching(/^[0-9a-f]{8}$/), expect.stringMatching(/^[0-9a-f]{8}$/)]);
    expect(new Set(board.entries.map((e) => e.params.config)).size).toBe(3);
  });

  it('tells apart runs of a file edited in one field with that field as a column', async () => {
    const cli = editedRuns((yaml) => yaml, (yaml) => yaml.replace('activation: relu', 'activation: tanh'));
    const board = JSON.parse((await cli('report', '--json')).stdout) as Leaderboard;
    expect(board.entries.map((e) => e.params['model.layers.1.activation'])).toEqual(['relu', 'tanh']);
    expect(board.columns).toEqual(['model.layers.1.activation']);
    expect((await cli('report')).stdout).toMatch(/│ 1\.activation\s+│[\s\S]*"relu"[\s\S]*"tanh"/);
  });

  it('heads a column with its full path where the short name is taken (train.epochs beside the epochs run)', async () => {
    const cli = editedRuns((yaml) => yaml, (yaml) => yaml.replace('train: { epochs: 1', 'train: { epochs: 2'));
    const header = (await cli('report')).stdout.split('\n')[1]!;
    expect(header).toMatch(/│ train\.epochs\s+│ test acc\s+│ test loss\s+│ epochs\s+│/);
  });

  it('counts a --force re-run of a seed once, the newest completed one, in the report and in the diff', async () => {
    const { record, cli, close } = database();
    const [seed1, seed2] = trials(experiment(), 2);
    record(seed1!, 'main', completed(0.6));
    record(seed2!, 'main', completed(0.7));
    const rerun = record(seed1!, 'main', completed(0.9));
    // A re-run that broke does not replace the completed one.
    record(seed2!, 'main', { status: 'failed', error: 'worker crashed' });
    record(seed1!, 'feature', completed(0.82));
    record(seed2!, 'feature', completed(0.84));
    close();
    const board = JSON.parse((await cli('report', '--branch', 'main', '--json')).stdout) as Leaderboard;
    expect(board.entries).toHaveLength(1);
    expect(board.entries[0]!.runIds).toEqual(['run-001', rerun]);
    expect(board.entries[0]!.accuracy.mean).toBeCloseTo(0.8, 12);
    expect(board.entries[0]!.accuracy.n).toBe(2);
    const diff = JSON.parse((await cli('diff', 'main', 'feature', '--json')).stdout) as DiffResult;
    expect(diff.pairs[0]!.a.runIds).toEqual(['run-001', rerun]);
    expect(diff.pairs[0]!.a.accuracy).toMatchObject({ mean: expect.closeTo(0.8, 12), n: 2 });
    expect(diff.pairs[0]!.a).toMatchObject({ failed: 0, diverged: 0 });
  });
});

describe('report, diff and compare', () => {
  it('start without loading TensorFlow.js', () => {
    const loaded = (...modules: string[]) => {
      const probe = `import { createRequire } from 'node:module';
for (const m of ${JSON.stringify(modules.map((m) => join(CLI, '..', m)))}) await import(m);
const cache = Object.keys(createRequire(import.meta.url).cache);
console.log(JSON.stringify(cache.filter((k) => k.includes('@tensorflow')).length));`;
      const result = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
      expect(result.status, result.stderr).toBe(0);
      return Number(result.stdout);
    };
    expect(loaded('commands/report.js', 'commands/diff.js', 'commands/compare.js', 'commands/show.js', 'commands/list.js')).toBe(0);
    // The probe does see TensorFlow.js where it is loaded.
    expect(loaded('sweep/run-sweep.js')).toBeGreaterThan(0);
  });
});
