import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSweepFlag } from '../src/config/sweep-flag.js';
import type { DiffResult } from '../src/report/diff.js';
import { runCli, tempDir, writeTemp } from './helpers/cli.js';

const TINY_CNN = `name: tiny
data: { trainLimit: 600, testLimit: 300 }
model:
  layers:
    - { type: conv2d, filters: 4, kernelSize: 3, padding: same, activation: relu }
    - { type: maxPooling2d, poolSize: 2 }
    - { type: dropout, name: drop1, rate: 0.25 }
    - { type: flatten }
    - { type: dense, units: 10, activation: softmax }
train: { epochs: 2, batchSize: 50, seed: 3 }
`;

const valuesOf = (text: string) => parseSweepFlag(text).values;
const flagError = (text: string) => {
  try {
    parseSweepFlag(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`--sweep ${text} was accepted`);
};
const hashesOf = (stdout: string) => [...stdout.matchAll(/│ ([0-9a-f]{16}) │/g)].map((m) => m[1]!);
const labelsOf = (stdout: string) => [...stdout.matchAll(/^│ (tiny\b.*?)\s+│ [0-9a-f]{16} │/gm)].map((m) => m[1]!);

describe('--sweep values', () => {
  it('are YAML scalars separated by commas, or a YAML flow list', () => {
    expect(valuesOf('train.optimizer.name=adam,sgd')).toEqual(['adam', 'sgd']);
    expect(valuesOf('train.optimizer.learningRate=0.1, 1e-3')).toEqual([0.1, 0.001]);
    expect(valuesOf('data.validation=test,0.1')).toEqual(['test', 0.1]);
    expect(valuesOf('model.layers.0.kernelSize=[3, [2, 2]]')).toEqual([3, [2, 2]]);
  });

  it('range(start,stop,step) includes a stop that a step lands on, and rounds away floating-point noise', () => {
    expect(valuesOf('model.layers.drop1.rate=range(0.1,0.3,0.1)')).toEqual([0.1, 0.2, 0.3]);
    expect(valuesOf('train.batchSize=range(16,64,16)')).toEqual([16, 32, 48, 64]);
    expect(valuesOf('x.y=range(0,1,0.3)')).toEqual([0, 0.3, 0.6, 0.9]);
    expect(valuesOf('x.y=range(1,0,-0.5)')).toEqual([1, 0.5, 0]);
  });

  it('logrange(start,stop,count) spaces count values evenly on a log scale, both ends included', () => {
    expect(valuesOf('train.optimizer.learningRate=logrange(1e-4,1e-2,3)')).toEqual([0.0001, 0.001, 0.01]);
    expect(valuesOf('train.optimizer.learningRate=logrange(0.001,0.1,5)')).toEqual([0.001, 0.00316227766017, 0.01, 0.0316227766017, 0.1]);
  });

  it('a flag that is no list of values says what it expected', () => {
    expect(flagError('train.epochs')).toContain('--sweep train.epochs: expected path=values');
    expect(flagError('train.epochs=range(1,2)')).toContain('range takes three numbers: range(start,stop,step)');
    expect(flagError('train.epochs=range(1,5,-1)')).toContain('never reaches its stop');
    expect(flagError('train.epochs=range(0,1,1e-9)')).toContain('gives 1000000001 values');
    expect(flagError('x.y=logrange(0,1,3)')).toContain('needs a positive start and stop');
    expect(flagError('x.y=logrange(1,10,1)')).toContain("logrange's count must be a whole number of values from 2");
    expect(flagError('train.epochs=[]')).toContain('no values to sweep over');
  });
});

describe('--sweep on the command line', () => {
  it('adds axes to the file\'s sweep, or replaces its axis on the same field, and runs the same trials as a file sweeping them', async () => {
    const dir = tempDir();
    const file = writeTemp('tiny.yaml', `${TINY_CNN}sweep:\n  model.layers.2.rate: [0.5]\n  train.epochs: [1, 2]\n`, dir);
    const db = join(dir, 'none.sqlite');
    const fromFlags = await runCli(['plan', file, '--sweep', 'train.optimizer.name=adam,sgd', '--sweep', 'model.layers.drop1.rate=range(0.1,0.3,0.1)', '--backend', 'cpu', '--db', db]);
    expect(fromFlags.status, fromFlags.stderr).toBe(0);
    const labels = labelsOf(fromFlags.stdout);
    // The flag names the layer the file's axis gives by index: one axis, the flag's values.
    expect(labels).toHaveLength(12);
    expect(labels).toContain('tiny epochs=2 name=sgd drop1.rate=0.3');
    expect(labels.join(' ')).not.toContain('rate=0.5');

    const inFile = writeTemp('grid.yaml', `${TINY_CNN}sweep:\n  train.optimizer.name: [adam, sgd]\n  model.layers.2.rate: [0.1, 0.2, 0.3]\n  train.epochs: [1, 2]\n`, dir);
    const fromFile = await runCli(['sweep', inFile, '--dry-run', '--backend', 'cpu', '--db', db]);
    expect(hashesOf(fromFlags.stdout).sort()).toEqual(hashesOf(fromFile.stdout).sort());
  });

  it('is checked like a sweep in the file, with problems that name the flag instead of a line', async () => {
    const file = writeTemp('tiny.yaml', TINY_CNN);
    const result = await runCli(['validate', file, '--sweep', 'model.layers.drop1.rat=0.1,0.2', '--sweep', 'train.optimizer.name=adam,sgdd', '--sweep', 'train.epochs=1,2', '--set', 'train.epochs=3']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${file} sweep.model.layers.drop1.rat: --sweep model.layers.drop1.rat=0.1,0.2: sweep path \`model.layers.drop1.rat\` points at nothing: \`model.layers.drop1\` has no field \`rat\`; did you mean \`model.layers.drop1.rate\`?`);
    expect(result.stderr).toContain('--sweep train.optimizer.name=adam,sgdd: sweep value "sgdd" for `train.optimizer.name` is invalid: `name` must be one of sgd, adam, rmsprop, adagrad, adadelta, adamax; got "sgdd"; did you mean `sgd`?');
    expect(result.stderr).toContain('--sweep train.epochs=1,2 and --set train.epochs=3 both set `train.epochs`');
    expect(result.stderr).toContain('tiny.yaml: 3 problems');
    expect(result.stderr).not.toMatch(/tiny\.yaml:\d/);

    const tooMany = await runCli(['validate', file, '--sweep', 'train.batchSize=range(10,100,10)', '--max-trials', '5']);
    expect(tooMany.stderr).toContain('--sweep train.batchSize=range(10,100,10): the sweep grid has 10 trials (10 × train.batchSize), over the limit of 5');

    const malformed = await runCli(['validate', file, '--sweep', 'train.epochs=range(1,2)']);
    expect(malformed.status).toBe(2);
    expect(malformed.stderr).toContain('error: --sweep train.epochs=range(1,2): range takes three numbers');
    expect(malformed.stderr).not.toContain('    at ');
  });

  it('runs a 2×2 grid without a file edit, and pairs in `runner diff` with a child experiment on another branch that overrides a layer by name', async () => {
    const repo = tempDir('runner-sweep-flag-diff-');
    const db = join(tempDir('runner-db-'), 'runs.sqlite');
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], { cwd: repo, encoding: 'utf8' }).trim();
    const sweep = async (file: string, ...flags: string[]) => {
      const result = await runCli(['sweep', file, '--backend', 'cpu', '--db', db, ...flags], { cwd: repo });
      expect(result.status, result.stderr).toBe(0);
      return result.stdout + result.stderr;
    };
    const tinyDense = (name: string) => `name: ${name}
data: { trainLimit: 600, testLimit: 300 }
model:
  layers:
    - { type: flatten }
    - { type: dense, name: hidden, units: 16, activation: relu }
    - { type: dense, units: 10, activation: softmax }
train: { optimizer: { name: adam, learningRate: 0.01 }, epochs: 1, batchSize: 50, seed: 1 }
`;
    git('init', '--quiet', '--initial-branch=main');
    writeFileSync(join(repo, 'tiny.yaml'), tinyDense('tiny'));
    git('add', '.');
    git('commit', '--quiet', '-m', 'tiny');
    expect(await sweep('tiny.yaml', '--sweep', 'model.layers.hidden.units=16,32', '--sweep', 'train.optimizer.learningRate=0.01,0.003')).toContain('4 completed');

    // The feature branch keeps the file as a parent; a child widens the hidden layer by name and sweeps the rate in the file.
    git('checkout', '--quiet', '-b', 'feature');
    writeFileSync(join(repo, 'wide.yaml'), 'extends: tiny.yaml\nname: tiny\nmodel:\n  layers:\n    - { name: hidden, units: 32 }\nsweep:\n  train.optimizer.learningRate: [0.01, 0.003]\n');
    git('add', '.');
    git('commit', '--quiet', '-m', 'a wider child');
    expect((await runCli(['validate', 'wide.yaml'], { cwd: repo })).status).toBe(0);
    expect(await sweep('wide.yaml')).toContain('2 completed');

    const diff = await runCli(['diff', 'main', 'feature', '--json', '--db', db], { cwd: repo });
    expect(diff.status, diff.stderr).toBe(0);
    const result = JSON.parse(diff.stdout) as DiffResult;
    expect(result.pairs).toHaveLength(2);
    for (const pair of result.pairs) {
      expect(pair.a.accuracy.n).toBe(1);
      expect(pair.b.accuracy.n).toBe(1);
    }
    expect(result.onlyA.map((p) => p.params['model.layers.hidden.units'])).toEqual([16, 16]);
    expect(result.onlyB).toEqual([]);
  });
});
