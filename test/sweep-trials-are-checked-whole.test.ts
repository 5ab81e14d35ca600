import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExperiment, parseOverride } from '../src/config/load-experiment.js';
import { parseSweepFlag } from '../src/config/sweep-flag.js';
import { UserError, type Problem } from '../src/errors.js';
import { checkedTrials } from '../src/sweep/checked-trials.js';
import { expandTrials, type TrialSpec } from '../src/sweep/expand.js';
import { runCli, tempDir, writeTemp } from './helpers/cli.js';

const LAYERS = `model:
  layers:
    - { type: flatten }
    - { type: dense, name: fc, units: 16, activation: relu }
    - { type: dense, units: 10, activation: softmax }
`;

function trialsOf(yaml: string, sets: string[] = [], options: { repeat?: number } = {}): TrialSpec[] {
  return checkedTrials(loadExperiment(writeTemp('experiment.yaml', yaml), sets.map(parseOverride)), options).trials;
}

function problemsOf(yaml: string, sets: string[] = [], sweeps: string[] = [], options: { repeat?: number; maxMemory?: number } = {}): Problem[] {
  try {
    checkedTrials(loadExperiment(writeTemp('experiment.yaml', yaml), sets.map(parseOverride), sweeps.map(parseSweepFlag)), options);
  } catch (error) {
    if (error instanceof UserError) return error.problems;
    throw error;
  }
  return [];
}

const noStackTrace = (stderr: string) => expect(stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);

describe('each trial of a sweep is resolved and checked as a whole', () => {
  it("sweeping whole optimizers, or their names, gives each trial that optimizer's Keras learning rate", () => {
    const objects = trialsOf(`name: t\n${LAYERS}sweep:\n  train.optimizer: [{ name: adam }, { name: sgd }, { name: rmsprop }]\n`);
    expect(objects.map((t) => t.config.train.optimizer)).toEqual([
      { name: 'adam', learningRate: 0.001 },
      { name: 'sgd', learningRate: 0.01 },
      { name: 'rmsprop', learningRate: 0.001 },
    ]);
    const names = trialsOf(`name: t\n${LAYERS}sweep:\n  train.optimizer.name: [adam, sgd, adadelta]\n`);
    expect(names.map((t) => t.config.train.optimizer.learningRate)).toEqual([0.001, 0.01, 1]);
  });

  it('a whole value swept is the same trial, with the same hash, as the value written in the file', () => {
    const [swept] = trialsOf(`name: t\n${LAYERS}sweep:\n  train.optimizer: [{ name: sgd }]\n  train.earlyStopping: [{ patience: 2 }]\n`);
    const [written] = trialsOf(`name: t\n${LAYERS}train: { optimizer: { name: sgd }, earlyStopping: { patience: 2 } }\n`);
    expect(swept!.hash).toBe(written!.hash);
  });

  it('values valid alone but not together are refused at the sweep value, naming the values', () => {
    const problems = problemsOf(`name: t\n${LAYERS}sweep:\n  model.layers.1.name: [a, b]\n  model.layers.2.name: [b, c]\n`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 9, path: 'sweep.model.layers.2.name[0]' });
    expect(problems[0]!.message).toBe('with model.layers.2.name = "b": layer name `b` is already used by model.layers[1] (model.layers[2].name)');
  });

  it('an axis that renames a layer keeps the axes that address the layer by its old name', () => {
    const trials = trialsOf(`name: t\n${LAYERS}sweep:\n  model.layers.1.name: [a, b]\n  model.layers.fc.units: [8, 32]\n`);
    expect(trials.map((t) => t.config.model.layers[1])).toMatchObject([
      { name: 'a', units: 8 },
      { name: 'a', units: 32 },
      { name: 'b', units: 8 },
      { name: 'b', units: 32 },
    ]);
  });

  it('a --set inside a swept value is written into every value; one that cannot be is refused', () => {
    const trials = trialsOf(`name: t\n${LAYERS}sweep:\n  train.optimizer: [{ name: adam }, { name: sgd }]\n`, ['train.optimizer.learningRate=0.05']);
    expect(trials.map((t) => t.config.train.optimizer)).toEqual([
      { name: 'adam', learningRate: 0.05 },
      { name: 'sgd', learningRate: 0.05 },
    ]);
    const [problem] = problemsOf(`name: t\n${LAYERS}sweep:\n  model.layers.1: [{ type: dense, units: 8 }, [1]]\n`, ['model.layers.1.units=4']);
    expect(problem).toMatchObject({ line: 8, path: 'sweep.model.layers.1[1]' });
    expect(problem!.message).toContain('--set model.layers.1.units=4 sets `units` inside each value of the swept `model.layers.1`');
  });

  it('refuses two axes on one field, or one inside the values of another', () => {
    const [inside] = problemsOf(`name: t\n${LAYERS}sweep:\n  train.optimizer: [{ name: adam }, { name: sgd }]\n  train.optimizer.learningRate: [0.1, 0.01]\n`);
    expect(inside).toMatchObject({ line: 9, message: 'sweep keys `train.optimizer` and `train.optimizer.learningRate` overlap: each value of `train.optimizer` replaces the field `train.optimizer.learningRate` sweeps' });
    const [same] = problemsOf(`name: t\n${LAYERS}sweep:\n  model.layers.fc.units: [8]\n  model.layers.1.units: [32]\n`);
    expect(same!.message).toBe('sweep keys `model.layers.fc.units` and `model.layers.1.units` both sweep `model.layers[1].units`');
  });
});

describe('values no trial can honour are refused at validation', () => {
  it('seeds stay 32-bit, the repeats included, and the message gives the range', () => {
    expect(problemsOf(`name: t\n${LAYERS}train: { seed: 4294967296 }\n`)[0]).toMatchObject({ line: 7, message: '`seed` must be an integer in [0, 4294967295], got 4294967296' });
    expect(problemsOf(`name: t\n${LAYERS}train: { seed: 9007199254740993 }\nrepeat: 2\n`)[0]!.message).toContain('[0, 4294967295]');
    const [repeats] = problemsOf(`name: t\n${LAYERS}train: { seed: 4294967295 }\nrepeat: 3\n`);
    expect(repeats).toMatchObject({ line: 7, message: 'seed 4294967295 with 3 repeats runs seeds up to 4294967297, beyond the largest seed, 4294967295' });
    expect(repeats!.hint).toBe('seeds must lie in 0..4294967295: use a seed of at most 4294967293 for 3 repeats');
    // --repeat counts as much as the file's repeat; a swept seed is checked at its value.
    expect(problemsOf(`name: t\n${LAYERS}sweep:\n  train.seed: [1, 4294967290]\n`, [], [], { repeat: 10 })[0]).toMatchObject({ line: 8, path: 'sweep.train.seed[1]' });
    expect(trialsOf(`name: t\n${LAYERS}train: { seed: 4294967293 }\nrepeat: 3\n`).map((t) => t.config.train.seed)).toEqual([4294967293, 4294967294, 4294967295]);
  });

  it('.inf, .nan and 1e309 are refused in fields, sweep values, --set and --sweep', () => {
    const problems = problemsOf(`name: t\n${LAYERS}train: { epochs: .nan, optimizer: { learningRate: 1e309 } }\nsweep:\n  train.optimizer.momentum: [.inf, 0.5]\n  train.earlyStopping: [{ minDelta: -.inf }]\n`);
    expect(problems.map((p) => [p.line, p.message])).toEqual([
      [7, '`epochs` must be an integer in [1, 1000], got .nan'],
      [7, '`learningRate` must be a positive number, got .inf'],
      [9, '`sweep.train.optimizer.momentum[0]` must be a finite number, got .inf'],
      [10, 'sweep value {"minDelta":"-.inf"} for `train.earlyStopping` is invalid: `minDelta` must be a non-negative number, got -.inf'],
    ]);
    for (const p of problems) expect(p.hint).toContain('numbers must be finite');
    const flags = problemsOf(`name: t\n${LAYERS}`, ['train.epochs=.inf'], ['train.batchSize=1e309,3']);
    expect(flags.map((p) => p.message)).toEqual([
      '`epochs` must be an integer in [1, 1000], got .inf (from --set train.epochs=.inf)',
      '--sweep train.batchSize=1e309,3: `sweep.train.batchSize[0]` must be a finite number, got .inf',
    ]);
  });

  it('a trial that would train on no image is refused, with the trainLimit that would do', () => {
    const [problem] = problemsOf(`name: t\ndata: { trainLimit: 1, validation: 0.5 }\n${LAYERS}`);
    expect(problem).toMatchObject({ line: 2, path: 'data.trainLimit', message: 'data.trainLimit 1 with validation 0.5 holds out 1 image for validation and leaves none to train on' });
    expect(problem!.hint).toBe('raise data.trainLimit to 2 or more, or score on the test set with validation: test');
    // Swept, at the value that empties it.
    const [atValue] = problemsOf(`name: t\ndata: { trainLimit: 2, validation: 0.5 }\n${LAYERS}sweep:\n  data.trainLimit: [4, 1]\n`);
    expect(atValue).toMatchObject({ line: 9, path: 'sweep.data.trainLimit[1]', message: expect.stringContaining('with data.trainLimit = 1: data.trainLimit 1 with validation 0.5') });
  });
});

describe('paths cannot reach a prototype', () => {
  it('--set, --sweep and sweep keys naming __proto__, constructor or prototype exit 2 without a trace, and Object.prototype stays clean', async () => {
    const file = writeTemp('t.yaml', `name: t\n${LAYERS}`);
    for (const args of [['--set', '__proto__.polluted=1'], ['--set', 'train.__proto__.epochs=5'], ['--sweep', 'constructor.prototype.polluted=1,2']]) {
      const result = await runCli(['validate', file, ...args]);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/`(__proto__|constructor)` cannot be part of a path/);
      noStackTrace(result.stderr);
    }
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    const dir = tempDir();
    const parent = writeTemp('parent.yaml', `name: p\n__proto__: { polluted: 1 }\n${LAYERS}train: { __proto__: { polluted: 1 } }\n`, dir);
    const child = writeTemp('child.yaml', `extends: ${basename(parent)}\nname: c\n__proto__: { polluted: 2 }\nmodel:\n  layers:\n    - { name: fc, __proto__: { polluted: 3 } }\nsweep:\n  __proto__.polluted: [1]\n  train.prototype.polluted: [1]\n`, dir);
    const problems = (() => {
      try {
        loadExperiment(child, [parseOverride('train.optimizer.learningRate=0.1')]);
      } catch (error) {
        return (error as UserError).problems;
      }
      return [];
    })();
    // Each file's `__proto__` is an unknown field (the child's also covers its sweep key below it), an own field after the merge.
    expect(problems.map((p) => p.message)).toEqual([
      'unknown field `__proto__`',
      'unknown field `__proto__` for a dense layer',
      'sweep path `train.prototype.polluted` points at nothing: `prototype` cannot be part of a path',
      'unknown field `__proto__` for `train`',
    ]);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe('limits of `runner validate` and `runner plan`', () => {
  it('refuses a model that cannot fit in the memory limit before allocating it, in validate and plan; --max-memory raises the limit', async () => {
    const huge = writeTemp('huge.yaml', `name: huge\nmodel:\n  layers:\n    - { type: flatten }\n    - { type: dense, units: 1000000, activation: relu }\n    - { type: dense, units: 10, activation: softmax }\n`);
    for (const command of ['validate', 'plan']) {
      const started = Date.now();
      const result = await runCli([command, huge, '--max-memory', '8GiB', ...(command === 'plan' ? ['--db', `${huge}.sqlite`] : [])]);
      expect(result.status, result.stderr).toBe(2);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(result.stderr).toContain(`${huge}:5:7 model.layers[1]: this dense layer has 784,000,000 weights: with their gradients and the optimizer's slots (4 values of 4 bytes each) training needs at least 11.7 GiB, over the memory limit of 8 GiB per trial`);
      noStackTrace(result.stderr);
    }
    // Under the limit per layer, over it as a whole trial: the estimate names its terms, at the batch size when activations dominate.
    const [activations] = problemsOf(`name: t\nmodel:\n  layers:\n    - { type: conv2d, filters: 512, kernelSize: 3, padding: same }\n    - { type: flatten }\n    - { type: dense, units: 10, activation: softmax }\ntrain: { batchSize: 4096 }\n`);
    expect(activations).toMatchObject({ line: 7, path: 'train.batchSize' });
    expect(activations!.message).toMatch(/^a trial of this model needs about 24\.\d GiB, over the memory limit of 4 GiB per trial: /);
    expect(problemsOf(`name: t\nmodel:\n  layers:\n    - { type: conv2d, filters: 512, kernelSize: 3, padding: same }\n    - { type: flatten }\n    - { type: dense, units: 10, activation: softmax }\ntrain: { batchSize: 4096 }\n`, [], [], { maxMemory: 32 * 1024 ** 3 })).toEqual([]);
  });

  it('validates a grid of 30,000 trials in seconds: linear in the grid, each distinct model built once', () => {
    const rates = Array.from({ length: 300 }, (_, i) => (i + 1) / 1e4);
    const file = writeTemp('grid.yaml', `name: grid\n${LAYERS}sweep:\n  train.optimizer.learningRate: [${rates.join(', ')}]\n  train.seed: [${Array.from({ length: 100 }, (_, i) => i).join(', ')}]\n`);
    const started = Date.now();
    expect(expandTrials(loadExperiment(file), { maxTrials: 30_000 })).toHaveLength(30_000);
    // 19 s before (a quadratic duplicate check), under 1 s now on two shared cores.
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  it('labels string parameters as written, not JSON-quoted', async () => {
    const file = writeTemp('t.yaml', `name: t\nmodel:\n  layers:\n    - { type: conv2d, filters: 2, kernelSize: 3 }\n    - { type: flatten }\n    - { type: dense, units: 10, activation: softmax }\nsweep:\n  model.layers.0.padding: [same, valid]\n`);
    const result = await runCli(['validate', file, '--summary']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('t model.layers.0.padding=same\n');
  });
});
