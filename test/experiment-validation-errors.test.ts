import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExperiment, parseOverride } from '../src/config/load-experiment.js';
import { UserError, type Problem } from '../src/errors.js';
import { validateExperimentFile } from '../src/sweep/checked-trials.js';
import { expandTrials } from '../src/sweep/expand.js';
import { ROOT, runCli, writeTemp } from './helpers/cli.js';

function problemsOf(yaml: string, overrides: string[] = []): Problem[] {
  const file = writeTemp('experiment.yaml', yaml);
  try {
    loadExperiment(file, overrides.map(parseOverride));
  } catch (error) {
    if (error instanceof UserError) return error.problems;
    throw error;
  }
  return [];
}

/** Every problem `runner validate` reports: loading, then the shape-only model build of each distinct trial. */
function allProblemsOf(yaml: string, overrides: string[] = []): Problem[] {
  const file = writeTemp('experiment.yaml', yaml);
  try {
    validateExperimentFile(file, overrides.map(parseOverride));
  } catch (error) {
    if (error instanceof UserError) return error.problems;
    throw error;
  }
  return [];
}

const LAYERS = `model:
  layers:
    - { type: flatten }
    - { type: dense, units: 10, activation: softmax }
`;

describe('experiment files are validated with positioned, actionable messages', () => {
  it('every file in experiments/ and its folders passes every check of `runner validate`, model checks included', () => {
    const dir = join(ROOT, 'experiments');
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml'));
    expect(files).toContain(join('search', 'cnn-family-asha.yaml'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const checked = validateExperimentFile(join(dir, file));
      expect(checked.trials.length, file).toBeGreaterThan(0);
      expect(checked.summaries[0]!.layers.at(-1)!.outputShape, file).toEqual([null, 10]);
    }
  });

  it('suggests the layer type a typo meant, on the line of the typo', () => {
    const [problem, ...rest] = problemsOf(`name: t\nmodel:\n  layers:\n    - { type: flatten }\n    - { type: Dense, units: 10 }\n`);
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ line: 5, path: 'model.layers[1].type' });
    expect(problem!.message).toContain('unknown layer type `Dense`; did you mean `dense`?');
  });

  it('reports every problem of a file at once, in line order', () => {
    const problems = problemsOf(`name: t
model:
  layers:
    - { type: conv2d, filters: 8, kernelSize: -3 }
    - { type: dense, unit: 10 }
train:
  epochs: ten
`);
    expect(problems.map((p) => p.line)).toEqual([4, 5, 5, 7]);
    expect(problems[0]!.message).toBe('`kernelSize` must be a positive integer or a pair of positive integers, got -3');
    expect(problems.some((p) => p.message.includes('did you mean `units`?'))).toBe(true);
    expect(problems.some((p) => p.message === 'a dense layer needs `units`')).toBe(true);
    expect(problems[3]!.message).toBe('`epochs` must be an integer in [1, 1000], got "ten"');
  });

  it('names YAML syntax problems: tabs and duplicate keys', () => {
    expect(problemsOf('name: t\nmodel:\n\tlayers: []\n')[0]).toMatchObject({ line: 3, message: expect.stringContaining('tab character') });
    expect(problemsOf(`name: t\nname: u\n${LAYERS}`)[0]).toMatchObject({ line: 2, message: expect.stringContaining('duplicate key "name"') });
  });

  it('rejects a sweep path that points at nothing, at the sweep line', () => {
    const [problem] = problemsOf(`name: t\n${LAYERS}sweep:\n  model.layers.drop9.rate: [0.1, 0.2]\n`);
    expect(problem).toMatchObject({ line: 7 });
    expect(problem!.message).toContain('sweep path `model.layers.drop9.rate` points at nothing');
  });

  it('rejects a sweep value of the wrong type, at the value', () => {
    const [problem] = problemsOf(`name: t\n${LAYERS}sweep:\n  train.epochs:\n    - 2\n    - three\n`);
    expect(problem).toMatchObject({ line: 9, path: 'sweep.train.epochs[1]' });
    expect(problem!.message).toContain('`epochs` must be an integer');
  });

  it('accepts a required field that only the sweep supplies, and still checks each of its values', () => {
    const yaml = (units: string) => `name: t\nmodel:\n  layers:\n    - { type: flatten }\n    - { type: dense, activation: relu }\n    - { type: dense, units: 10, activation: softmax }\nsweep:\n  model.layers.1.units: ${units}\n`;
    const file = writeTemp('experiment.yaml', yaml('[10, 20]'));
    expect(allProblemsOf(yaml('[10, 20]'))).toEqual([]);
    expect(expandTrials(loadExperiment(file)).map((t) => (t.config.model.layers[1] as { units: number }).units)).toEqual([10, 20]);
    expect(problemsOf(yaml('[10, 0]'))).toMatchObject([{ line: 8, path: 'sweep.model.layers.1.units[1]' }]);
    // Not swept, it is still missing.
    expect(problemsOf(yaml('[10]').replace(/sweep:[\s\S]*$/, ''))[0]!.message).toContain('needs `units`');
  });

  it('says when a bad value came from --set rather than the file', () => {
    const [problem] = problemsOf(`name: t\n${LAYERS}`, ['train.epochs=-1']);
    expect(problem!.message).toContain('(from --set train.epochs=-1)');
  });

  it('blames an unknown field a --set names on the flag, not on a line of the file, with a suggestion', () => {
    const problems = problemsOf(`name: t\n${LAYERS}train:\n  epochs: 2\n`, ['train.epochz=1', 'train.bogus.x=1']);
    expect(problems).toHaveLength(2);
    const [typo, bogus] = problems;
    expect(typo).toMatchObject({ path: 'train.epochz', message: 'unknown field `epochz` for `train`; did you mean `epochs`? (from --set train.epochz=1)' });
    expect(bogus).toMatchObject({ path: 'train.bogus', message: expect.stringContaining('(from --set train.bogus.x=1)') });
    for (const p of problems) expect(p.line, p.message).toBeUndefined();
  });

  it('prints the full path of an unknown field in the file', () => {
    const [problem] = problemsOf(`name: t\n${LAYERS}train:\n  bogus: 1\n`);
    expect(problem).toMatchObject({ line: 7, column: 3, path: 'train.bogus', message: expect.stringContaining('unknown field `bogus`') });
  });

  it('says that an empty layer list needs a layer, and checks nothing that depends on the missing layers', () => {
    const problems = allProblemsOf(`name: t\nmodel:\n  layers: []\nsweep:\n  model.layers.0.units: [8, 16]\n`);
    expect(problems.map((p) => p.message)).toEqual(['model.layers needs at least one layer']);
    expect(problems[0]).toMatchObject({ line: 3, path: 'model.layers' });
  });

  it('reports a typo in a sweep key once, as a path that points at nothing, with the path it probably meant', () => {
    const problems = problemsOf(`name: t\n${LAYERS}sweep:\n  train.optimizer.learningRat: [0.1, 0.01, 0.001]\n`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      line: 7,
      column: 3,
      path: 'sweep.train.optimizer.learningRat',
      message: 'sweep path `train.optimizer.learningRat` points at nothing: `train.optimizer` has no field `learningRat`; did you mean `train.optimizer.learningRate`?',
    });
  });

  it('reports problems of every stage at once: schema, sweep paths and values, and the model built shape-only', () => {
    const problems = allProblemsOf(`name: t
model:
  layers:
    - { type: conv2d, filters: 8, kernelSize: 3 }
    - { type: maxPooling2d, poolSize: 30 }
    - { type: flatten }
    - { type: dense, units: 5 }
    - { type: dropout, rate: 0.2 }
train:
  epochs: ten
sweep:
  model.layers.drop9.rate: [0.1]
  train.batchSize: [32, -1]
`);
    expect(problems.map((p) => [p.line, p.message.replace(/:.*/, '')])).toEqual([
      [5, "maxPooling2d's window is larger than its 26×26×8 input"],
      [7, 'the last layer outputs 5 values, but Fashion-MNIST has 10 classes'],
      [7, 'loss sparseCategoricalCrossentropy expects probabilities, but the activation of model.layers[3], the last layer that has one, is linear'],
      [10, '`epochs` must be an integer in [1, 1000], got "ten"'],
      [12, 'sweep path `model.layers.drop9.rate` points at nothing'],
      [13, 'sweep value -1 for `train.batchSize` is invalid'],
    ]);
  });

  it('still checks the model when only the grid is too large', () => {
    const file = writeTemp('grid.yaml', `name: t\nmodel:\n  layers:\n    - { type: flatten }\n    - { type: dense, units: 7, activation: softmax }\nsweep:\n  train.seed: [1, 2, 3]\n`);
    let caught: Problem[] = [];
    try {
      validateExperimentFile(file, [], { maxTrials: 2 });
    } catch (error) {
      caught = (error as UserError).problems;
    }
    expect(caught.map((p) => p.message)).toEqual([
      expect.stringContaining('the sweep grid has 3 trials'),
      'the last layer outputs 7 values, but Fashion-MNIST has 10 classes',
    ]);
  });

  it('rejects a conv2d that combines strides and dilation above 1, which tfjs accepts until the first training step', () => {
    const problems = allProblemsOf(`name: t
model:
  layers:
    - { type: conv2d, filters: 8, kernelSize: 3, strides: 2, dilationRate: [2, 1] }
    - { type: flatten }
    - { type: dense, units: 10, activation: softmax }
`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 4, path: 'model.layers[0].dilationRate', message: expect.stringContaining('conv2d cannot combine strides 2 with dilationRate [2,1]') });
    expect(problems[0]!.hint).toContain('set dilationRate: 1');
  });

  it('finds the softmax of the last layer that has an activation, past dropout after it', () => {
    const softmaxThenDropout = `name: t\nmodel:\n  layers:\n    - { type: flatten }\n    - { type: dense, units: 10, activation: softmax }\n    - { type: dropout, rate: 0.3 }\n`;
    expect(allProblemsOf(softmaxThenDropout)).toEqual([]);
    const [problem, ...rest] = allProblemsOf(softmaxThenDropout.replace('activation: softmax', 'activation: relu'));
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ line: 5, path: 'model.layers[1]', message: expect.stringContaining('is relu') });
  });

  it('validate --summary prints each distinct model as a layer table with output shapes and parameter counts', async () => {
    const file = writeTemp(
      'summary.yaml',
      `name: summary
model:
  layers:
    - { type: conv2d, filters: 4, kernelSize: 3, activation: relu }
    - { type: maxPooling2d, poolSize: 2 }
    - { type: flatten, name: flat }
    - { type: dense, units: 10, activation: softmax }
sweep:
  model.layers.0.filters: [4, 8]
`,
    );
    const result = await runCli(['validate', '--summary', file]);
    expect(result.status).toBe(0);
    const rows = (label: string) => {
      const table = result.stdout.split(/^(?=summary)/m).find((t) => t.startsWith(label))!;
      return table
        .split('\n')
        .filter((line) => /^│ \d/.test(line))
        .map((line) => line.split('│').slice(1, -1).map((cell) => cell.trim()));
    };
    // conv 3×3 on one channel: 4 × (9 + 1) = 40 weights; the dense layer sees 13×13×4 = 676 inputs: 6,770.
    expect(rows('summary\n')).toEqual([
      ['0', 'conv2d_0', 'conv2d', '(None, 26, 26, 4)', '40'],
      ['1', 'maxPooling2d_1', 'maxPooling2d', '(None, 13, 13, 4)', '0'],
      ['2', 'flat', 'flatten', '(None, 676)', '0'],
      ['3', 'dense_3', 'dense', '(None, 10)', '6,770'],
    ]);
    expect(result.stdout).toContain('total parameters: 6,810');
    expect(rows('summary model.layers.0.filters=8')).toEqual([
      ['0', 'conv2d_0', 'conv2d', '(None, 26, 26, 8)', '80'],
      ['1', 'maxPooling2d_1', 'maxPooling2d', '(None, 13, 13, 8)', '0'],
      ['2', 'flat', 'flatten', '(None, 1352)', '0'],
      ['3', 'dense_3', 'dense', '(None, 10)', '13,530'],
    ]);
    expect(result.stdout).toContain('total parameters: 13,610');
  });

  it('the CLI exits 2 with file:line and no stack trace, and summarises several files', async () => {
    const good = join(ROOT, 'experiments', 'quick.yaml');
    const bad = writeTemp('bad.yaml', `name: t\nmodel:\n  layers:\n    - { type: dense, units: 10, activation: sofmax }\n`);
    const result = await runCli(['validate', good, bad]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${bad}:4:`);
    expect(result.stderr).toContain('did you mean `softmax`?');
    expect(result.stdout).toContain('1 of 2 files valid');
    expect(result.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
  });
});
