import { describe, expect, it } from 'vitest';
import { loadExperiment, parseOverride } from '../src/config/load-experiment.js';
import { UserError } from '../src/errors.js';
import { expandTrials } from '../src/sweep/expand.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { planSweep } from '../src/sweep/checked-trials.js';
import { ROOT, writeTemp } from './helpers/cli.js';

const FILE = `name: grid
model:
  layers:
    - { type: flatten }
    - { type: dropout, name: drop1, rate: 0.25 }
    - { type: dense, units: 10, activation: softmax }
train: { seed: 7 }
sweep:
  train.optimizer.learningRate: [0.001, 0.0003]
  model.layers.drop1.rate: [0.2, 0.4]
`;

describe('a sweep grid expands into fully resolved trials', () => {
  it('makes the cartesian product, addressing layers by name', () => {
    const trials = expandTrials(loadExperiment(writeTemp('grid.yaml', FILE)));
    expect(trials.map((t) => [t.config.train.optimizer.learningRate, (t.config.model.layers[1] as { rate: number }).rate])).toEqual([
      [0.001, 0.2],
      [0.001, 0.4],
      [0.0003, 0.2],
      [0.0003, 0.4],
    ]);
    expect(new Set(trials.map((t) => t.hash)).size).toBe(4);
    expect(trials[0]!.params).toEqual({ 'train.optimizer.learningRate': 0.001, 'model.layers.drop1.rate': 0.2 });
  });

  it('fills every default, so the trial never guesses one', () => {
    const [trial] = expandTrials(loadExperiment(writeTemp('grid.yaml', FILE)));
    expect(trial!.config.train).toMatchObject({ epochs: 10, batchSize: 32, loss: 'sparseCategoricalCrossentropy', seed: 7, optimizer: { name: 'adam' } });
    expect(trial!.config.model.input).toEqual([28, 28, 1]);
    expect(trial!.config.data).toMatchObject({ dataset: 'fashion-mnist', validation: 'test' });
  });

  it('repeats each combination with consecutive seeds, each its own identity', () => {
    const trials = expandTrials(loadExperiment(writeTemp('grid.yaml', FILE)), { repeat: 3 });
    expect(trials).toHaveLength(12);
    expect(trials.slice(0, 3).map((t) => t.config.train.seed)).toEqual([7, 8, 9]);
    expect(new Set(trials.map((t) => t.hash)).size).toBe(12);
  });

  it('offsets a swept seed for each repeat instead of overwriting it', () => {
    const file = writeTemp('seeds.yaml', FILE.replace(/sweep:[\s\S]*$/, 'sweep:\n  train.seed: [1, 5]\n'));
    const trials = expandTrials(loadExperiment(file), { repeat: 2 });
    expect(trials.map((t) => t.config.train.seed)).toEqual([1, 2, 5, 6]);
    expect(trials.map((t) => t.params)).toEqual([{ seed: 1 }, { seed: 2 }, { seed: 5 }, { seed: 6 }]);
  });

  it('labels a swept seed once, as the seed the trial used, even without repeats', () => {
    const file = writeTemp('seeds.yaml', FILE.replace(/sweep:[\s\S]*$/, 'sweep:\n  train.seed: [1, 5]\n'));
    expect(expandTrials(loadExperiment(file)).map((t) => t.params)).toEqual([{ seed: 1 }, { seed: 5 }]);
  });

  it('runs a trial once when swept seeds and repeats overlap', () => {
    const file = writeTemp('seeds.yaml', FILE.replace(/sweep:[\s\S]*$/, 'sweep:\n  train.seed: [1, 2]\n'));
    const trials = expandTrials(loadExperiment(file), { repeat: 2 });
    expect(trials.map((t) => t.config.train.seed)).toEqual([1, 2, 3]);
    expect(new Set(trials.map((t) => t.hash)).size).toBe(3);
  });

  it('a --set on a swept path replaces that axis with its single value; other axes stay', () => {
    const loaded = loadExperiment(writeTemp('grid.yaml', FILE), [parseOverride('train.optimizer.learningRate=0.1')]);
    const trials = expandTrials(loaded);
    expect(trials.map((t) => [t.config.train.optimizer.learningRate, (t.config.model.layers[1] as { rate: number }).rate])).toEqual([
      [0.1, 0.2],
      [0.1, 0.4],
    ]);
    expect(trials[0]!.params).toEqual({ 'model.layers.drop1.rate': 0.2 });
  });

  it('a --set replaces a sweep axis however either names the field (layer index or name, or a parent mapping)', () => {
    const byIndex = expandTrials(loadExperiment(writeTemp('grid.yaml', FILE), [parseOverride('model.layers.1.rate=0.3')]));
    expect(byIndex.map((t) => (t.config.model.layers[1] as { rate: number }).rate)).toEqual([0.3, 0.3]);
    const parent = expandTrials(loadExperiment(writeTemp('grid.yaml', FILE), [parseOverride('train.optimizer={name: sgd, learningRate: 0.05}')]));
    expect(parent.map((t) => t.config.train.optimizer)).toEqual([
      { name: 'sgd', learningRate: 0.05 },
      { name: 'sgd', learningRate: 0.05 },
    ]);
  });

  it('gives the same config the same hash whatever file it came from or how its defaults were written', () => {
    const a = expandTrials(loadExperiment(writeTemp('a.yaml', FILE)))[0]!;
    const explicit = FILE.replace('train: { seed: 7 }', 'train: { seed: 7, epochs: 10, batchSize: 32 }').replace('description', 'x');
    const b = expandTrials(loadExperiment(writeTemp('b.yaml', explicit)))[0]!;
    expect(b.hash).toBe(a.hash);
  });

  it('refuses a grid over the trial limit unless allowed', () => {
    const loaded = loadExperiment(writeTemp('grid.yaml', FILE));
    expect(() => expandTrials(loaded, { maxTrials: 3 })).toThrow(UserError);
    try {
      expandTrials(loaded, { maxTrials: 3 });
    } catch (error) {
      expect((error as UserError).problems[0]).toMatchObject({ line: 8, hint: expect.stringContaining('--max-trials 4') });
    }
    expect(expandTrials(loaded, { maxTrials: 4 })).toHaveLength(4);
  });

  it('trains a trial reached twice (the same file given twice, or a copy of it) once', () => {
    const file = join(ROOT, 'experiments', 'quick.yaml');
    const copy = writeTemp('quick.yaml', readFileSync(file, 'utf8'));
    const plan = planSweep({ files: [file, copy, file], overrides: [] });
    expect(plan.trials.map((t) => t.hash)).toEqual(planSweep({ files: [file], overrides: [] }).trials.map((t) => t.hash));
    expect(plan.trials).toHaveLength(2);
  });
});
