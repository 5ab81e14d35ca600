import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { blocksByFile, runCli, tempDir, writeTemp } from './helpers/cli.js';

/** Seven lines, so that what each case adds starts at line 8. */
const HEAD = `name: t
model:
  layers:
    - { type: flatten }
    - { type: dropout, name: drop, rate: 0.2 }
    - { type: dense, units: 10, activation: softmax }
train: { epochs: 5 }
`;

interface Misuse {
  name: string;
  /** What follows HEAD. */
  yaml: string;
  line: number;
  column: number;
  message: string;
  /** A fragment of the hint; absent where the message says it all (a did-you-mean). */
  hint?: string;
}

const MISUSES: Misuse[] = [
  {
    name: 'an asha field under a grid',
    yaml: 'search:\n  minEpochs: 2\n',
    line: 9,
    column: 3,
    message: 'search.minEpochs applies only to strategy: asha',
    hint: 'set strategy: asha',
  },
  {
    name: 'an asha field under random search',
    yaml: 'sweep:\n  model.layers.drop.rate: [0.1, 0.3]\nsearch:\n  strategy: random\n  trials: 2\n  reduction: 2\n',
    line: 13,
    column: 3,
    message: 'search.reduction applies only to strategy: asha',
    hint: 'set strategy: asha',
  },
  {
    name: 'random search without trials',
    yaml: 'sweep:\n  model.layers.drop.rate: [0.1, 0.3]\nsearch:\n  strategy: random\n',
    line: 11,
    column: 3,
    message: 'strategy: random needs search.trials, the number of configs to sample',
    hint: 'trials: 20',
  },
  {
    name: 'asha sampling its candidates without trials',
    yaml: 'search:\n  strategy: asha\n  candidates: random\n',
    line: 10,
    column: 3,
    message: 'candidates: random needs search.trials',
    hint: 'trials: 20',
  },
  {
    name: 'trials with a grid',
    yaml: 'search:\n  trials: 4\n',
    line: 9,
    column: 3,
    message: 'search.trials applies only to random sampling',
    hint: 'a grid runs every combination of the sweep',
  },
  {
    name: "trials with asha's grid of candidates",
    yaml: 'search:\n  strategy: asha\n  maxEpochs: 9\n  trials: 4\n',
    line: 11,
    column: 3,
    message: 'search.trials applies only to random sampling',
    hint: 'set candidates: random',
  },
  {
    name: 'a sampling seed with a grid',
    yaml: 'search:\n  seed: 3\n',
    line: 9,
    column: 3,
    message: 'search.seed applies only to random sampling',
    hint: 'set strategy: random',
  },
  {
    name: 'minEpochs not below the maxEpochs train.epochs gives',
    yaml: 'search:\n  strategy: asha\n  minEpochs: 5\n',
    line: 10,
    column: 3,
    message: 'search.minEpochs 5 must be below maxEpochs 5 (train.epochs, as search.maxEpochs is not given)',
    hint: 'lower minEpochs',
  },
  {
    name: 'minEpochs above maxEpochs',
    yaml: 'search:\n  strategy: asha\n  minEpochs: 3\n  maxEpochs: 2\n',
    line: 10,
    column: 3,
    message: 'search.minEpochs 3 must be below maxEpochs 2',
    hint: 'raise maxEpochs',
  },
  {
    name: 'a sweep of train.epochs under asha',
    yaml: 'sweep:\n  train.epochs: [1, 2]\nsearch:\n  strategy: asha\n  maxEpochs: 9\n',
    line: 9,
    column: 3,
    message: 'sweep `train.epochs` under strategy: asha: asha gives each trial its epochs itself',
    hint: 'set search.minEpochs and search.maxEpochs instead',
  },
  {
    name: 'a distribution under a grid',
    yaml: 'sweep:\n  model.layers.drop.rate: { uniform: [0.1, 0.5] }\n',
    line: 9,
    column: 3,
    message: 'sweep `model.layers.drop.rate` is a distribution, which needs search.strategy: random (or strategy: asha with candidates: random); a grid needs a list of values',
    hint: 'strategy: random, trials: 20',
  },
  {
    name: "a distribution under asha's grid of candidates",
    yaml: 'sweep:\n  model.layers.drop.rate: { logUniform: [0.1, 0.5] }\nsearch: { strategy: asha, maxEpochs: 9 }\n',
    line: 9,
    column: 3,
    message: 'a grid needs a list of values',
    hint: 'set candidates: random and trials',
  },
  {
    name: 'a range whose low end is not below its high end',
    yaml: 'sweep:\n  model.layers.drop.rate: { uniform: [0.5, 0.1] }\nsearch: { strategy: random, trials: 3 }\n',
    line: 9,
    column: 38,
    message: '{ uniform: [0.5, 0.1] } for `model.layers.drop.rate` needs its low end below its high end',
    hint: 'write [low, high]',
  },
  {
    name: 'a log-uniform range from 0',
    yaml: 'sweep:\n  train.optimizer.learningRate: { logUniform: [0, 0.1] }\nsearch: { strategy: random, trials: 3 }\n',
    line: 9,
    column: 48,
    message: '`sweep.train.optimizer.learningRate.logUniform[0]` must be a positive number, got 0',
  },
  {
    name: 'an end the field refuses',
    yaml: 'sweep:\n  data.trainLimit: { int: [0, 10] }\nsearch: { strategy: random, trials: 3 }\n',
    line: 9,
    column: 28,
    message: 'sweep value 0 (the low end of int) for `data.trainLimit` is invalid: `trainLimit` must be an integer in [1, 60000], got 0',
  },
  {
    name: 'real numbers for an integer field',
    yaml: 'sweep:\n  train.batchSize: { uniform: [16, 64] }\nsearch: { strategy: random, trials: 3 }\n',
    line: 9,
    column: 31,
    message: 'for `train.batchSize` is invalid: `batchSize` must be an integer',
    hint: 'sample it with { int: [16, 64] }',
  },
  {
    name: 'a choice with an option the field refuses',
    yaml: 'sweep:\n  train.optimizer.momentum: { choice: [0.1, -1] }\nsearch: { strategy: random, trials: 2 }\n',
    line: 9,
    column: 45,
    message: 'sweep value -1 for `train.optimizer.momentum` is invalid: `momentum` must be a non-negative number, got -1',
  },
  {
    name: 'two distributions for one key',
    yaml: 'sweep:\n  model.layers.drop.rate: { uniform: [0.1, 0.5], choice: [0.2] }\nsearch: { strategy: random, trials: 3 }\n',
    line: 9,
    column: 27,
    message: '`model.layers.drop.rate` must be a mapping with one of uniform, logUniform, int, choice, got',
  },
  {
    name: 'more trials than the sweep has distinct configs',
    yaml: 'sweep:\n  model.layers.drop.rate: [0.1, 0.2, 0.1]\n  train.batchSize: { int: [16, 17] }\nsearch: { strategy: random, trials: 5 }\n',
    line: 11,
    column: 29,
    message: 'search.trials asks for 5 distinct configs, but the sweep holds only 4 (2 of model.layers.drop.rate × 2 of train.batchSize)',
    hint: 'lower trials to 4, or use strategy: grid',
  },
  {
    name: 'a time budget that is no duration',
    yaml: 'search:\n  timeBudget: 90 minutes\n',
    line: 9,
    column: 15,
    message: '`timeBudget` must be a number and a unit (s, m, h or d), such as 90m, 2h or 45s, got "90 minutes"',
  },
  {
    name: 'a time budget under a second',
    yaml: 'search:\n  timeBudget: 0.5s\n',
    line: 9,
    column: 3,
    message: 'search.timeBudget 0.5s is shorter than a second',
    hint: 'e.g. 90m, 2h or 45s',
  },
  {
    name: 'an unknown key in search',
    yaml: 'search:\n  strategy: asha\n  minEpoch: 2\n',
    line: 10,
    column: 3,
    message: 'unknown field `minEpoch` for `search`; did you mean `minEpochs`?',
  },
  {
    name: 'an unknown distribution',
    yaml: 'sweep:\n  model.layers.drop.rate: { unifrom: [0.1, 0.5] }\nsearch: { strategy: random, trials: 3 }\n',
    line: 9,
    column: 29,
    message: 'unknown field `unifrom` for `sweep.model.layers.drop.rate`; did you mean `uniform`?',
  },
  {
    name: 'a strategy misspelt',
    yaml: 'search: { strategy: randm, trials: 3 }\n',
    line: 8,
    column: 21,
    message: '`strategy` must be one of grid, random, asha; got "randm"; did you mean `random`?',
  },
];


describe('the search section is checked like the rest of the file', () => {
  const dir = tempDir();
  const files = MISUSES.map((misuse, i) => ({ ...misuse, file: writeTemp(`misuse-${i}.yaml`, HEAD + misuse.yaml, dir) }));

  it('each misuse is one problem at the line and column of the offending key, with its message and hint', async () => {
    const result = await runCli(['validate', ...files.map((f) => f.file)]);
    expect(result.status).toBe(2);
    expect(result.stdout).toContain(`0 of ${files.length} files valid`);
    const blocks = blocksByFile(result.stderr);
    for (const { name, file, line, column, message, hint } of files) {
      const block = blocks.get(file);
      expect(block, `${name}: no problem reported`).toBeDefined();
      expect(block, name).toMatch(/^✗ .+: 1 problem$/m);
      expect(block, name).toContain(`${file}:${line}:${column} `);
      expect(block, name).toContain(message);
      if (hint) expect(block!.slice(block!.indexOf('\nhint: ')), name).toContain(hint);
    }
    expect(result.stderr).not.toContain('internal error');
    expect(result.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  });

  it('a sweep of such files writes nothing', async () => {
    const db = join(tempDir(), 'runs.sqlite');
    const result = await runCli(['sweep', ...files.map((f) => f.file), '--db', db]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('nothing was run');
    expect(existsSync(db)).toBe(false);
  });

  it('valid random and asha sections validate, and resolve with defaults for what they leave out', async () => {
    const sweep = 'sweep:\n  model.layers.drop.rate: { uniform: [0.1, 0.5] }\n  train.optimizer.name: [adam, rmsprop]\n';
    const random = writeTemp('random.yaml', `${HEAD}${sweep}search: { strategy: random, trials: 4, seed: 9, maxTrials: 3, timeBudget: 90m }\n`, dir);
    const withEarlyStopping = HEAD.replace('train: { epochs: 5 }', 'train: { epochs: 5, earlyStopping: { patience: 2 } }');
    const ashaGrid = writeTemp('asha.yaml', `${withEarlyStopping}sweep:\n  model.layers.drop.rate: [0.1, 0.3]\nsearch: { strategy: asha, maxEpochs: 9 }\n`, dir);
    const ashaRandom = writeTemp('asha-random.yaml', `${HEAD}${sweep}search: { strategy: asha, candidates: random, trials: 6, minEpochs: 2, reduction: 2, metric: valLoss, timeBudget: 2h }\n`, dir);
    const result = await runCli(['validate', random, ashaGrid, ashaRandom]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`✓ ${random}: valid, 4 trials`);
    expect(result.stdout).toContain(`✓ ${ashaGrid}: valid, 2 trials`);
    expect(result.stdout).toContain(`✓ ${ashaRandom}: valid, 6 trials`);

    const printed = await runCli(['validate', '--print', ashaGrid, random]);
    expect(printed.status, printed.stderr).toBe(0);
    const [asha, sampled] = parseAllDocuments(printed.stdout).map((doc) => doc.toJS() as { search: unknown });
    expect(asha!.search).toEqual({ strategy: 'asha', candidates: 'grid', minEpochs: 1, maxEpochs: 9, reduction: 3, metric: 'valAccuracy' });
    expect(sampled!.search).toEqual({ strategy: 'random', trials: 4, seed: 9, maxTrials: 3, timeBudget: '90m' });
  });
});
