import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadExperiment, parseOverride } from '../src/config/load-experiment.js';
import { schemaErrors } from '../src/config/schema.js';
import { UserError, type Problem } from '../src/errors.js';
import { expandTrials } from '../src/sweep/expand.js';
import { ROOT, runCli, tempDir } from './helpers/cli.js';

const PARENT = `name: parent
description: a small CNN
data: { trainLimit: 600, testLimit: 300 }
model:
  layers:
    - { type: conv2d, name: conv1, filters: 4, kernelSize: 3, padding: same, activation: relu }
    - { type: maxPooling2d, poolSize: 2 }
    - { type: dropout, name: drop1, rate: 0.25 }
    - { type: flatten }
    - { type: dense, units: 10, activation: softmax }
train:
  optimizer: { name: adam, learningRate: 0.01 }
  epochs: 2
  batchSize: 50
  seed: 3
  earlyStopping: { patience: 1 }
augment:
  - { type: randomFlip, mode: horizontal }
sweep:
  train.optimizer.learningRate: [0.01, 0.001]
`;

/** Every edit kind at once: override by name and by index, insert by name and by index, remove, null (a field, a layer's field), list replace, sweep merge. */
const CHILD = `extends: parent.yaml
name: child
model:
  layers:
    - { name: conv1, filters: 8, padding: null }
    - { at: 1, strides: 1 }
    - { type: dropout, name: drop0, rate: 0.1, after: conv1 }
    - { type: dense, units: 16, activation: relu, before: 4 }
    - { name: drop1, remove: true }
train:
  epochs: 1
  earlyStopping: null
augment: [{ type: gaussianNoise, stddev: 0.1 }]
sweep:
  model.layers.drop0.rate: [0.1, 0.2]
`;

/** CHILD written out in full, as one file. */
const FLAT = `name: child
description: a small CNN
data: { trainLimit: 600, testLimit: 300 }
model:
  layers:
    - { type: conv2d, name: conv1, filters: 8, kernelSize: 3, activation: relu }
    - { type: dropout, name: drop0, rate: 0.1 }
    - { type: maxPooling2d, poolSize: 2, strides: 1 }
    - { type: flatten }
    - { type: dense, units: 16, activation: relu }
    - { type: dense, units: 10, activation: softmax }
train:
  optimizer: { name: adam, learningRate: 0.01 }
  epochs: 1
  batchSize: 50
  seed: 3
augment: [{ type: gaussianNoise, stddev: 0.1 }]
sweep:
  train.optimizer.learningRate: [0.01, 0.001]
  model.layers.drop0.rate: [0.1, 0.2]
`;

/** Writes the files into a fresh directory and returns it. */
function project(files: Record<string, string>): string {
  const dir = tempDir('runner-extends-');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function problemsOf(file: string): Problem[] {
  try {
    loadExperiment(file);
  } catch (error) {
    if (error instanceof UserError) return error.problems;
    throw error;
  }
  return [];
}

const hashesOf = (stdout: string) => [...stdout.matchAll(/│ ([0-9a-f]{16}) │/g)].map((m) => m[1]);
const dryRun = (file: string, dir: string) => runCli(['sweep', file, '--dry-run', '--backend', 'cpu', '--db', join(dir, 'none.sqlite')]);

describe('an experiment can extend another', () => {
  it('gives the same trials (the same hashes) as the experiment written out flat, so moving fields into a parent changes nothing', async () => {
    const dir = project({ 'parent.yaml': PARENT, 'child.yaml': CHILD, 'flat.yaml': FLAT });
    const viaExtends = await dryRun(join(dir, 'child.yaml'), dir);
    const flat = await dryRun(join(dir, 'flat.yaml'), dir);
    expect(viaExtends.status, viaExtends.stderr).toBe(0);
    expect(hashesOf(viaExtends.stdout)).toHaveLength(4);
    expect(hashesOf(viaExtends.stdout)).toEqual(hashesOf(flat.stdout));
  });

  it('`validate --print` prints the resolved experiment, which runs the same trials when saved as a file', async () => {
    const dir = project({ 'parent.yaml': PARENT, 'child.yaml': CHILD });
    const printed = await runCli(['validate', '--print', join(dir, 'child.yaml')]);
    expect(printed.status, printed.stderr).toBe(0);
    const resolved = parseYaml(printed.stdout) as Record<string, any>;
    expect(resolved.extends).toBeUndefined();
    expect(resolved.model.input).toEqual([28, 28, 1]);
    expect(resolved.model.layers.map((l: { name?: string; type: string }) => l.name ?? l.type)).toEqual(['conv1', 'drop0', 'maxPooling2d', 'flatten', 'dense', 'dense']);
    expect(resolved.model.layers[2]).toMatchObject({ poolSize: 2, strides: 1 });
    expect(resolved.train).toMatchObject({ epochs: 1, batchSize: 50, optimizer: { name: 'adam', learningRate: 0.01 }, loss: 'sparseCategoricalCrossentropy' });
    expect(resolved.train.earlyStopping).toBeUndefined();
    expect(resolved.augment).toEqual([{ type: 'gaussianNoise', stddev: 0.1 }]);
    expect(resolved.sweep).toEqual({ 'train.optimizer.learningRate': [0.01, 0.001], 'model.layers.drop0.rate': [0.1, 0.2] });
    expect(printed.stderr).toContain('1 of 1 file valid');

    writeFileSync(join(dir, 'saved.yaml'), printed.stdout);
    expect(hashesOf((await dryRun(join(dir, 'saved.yaml'), dir)).stdout)).toEqual(hashesOf((await dryRun(join(dir, 'child.yaml'), dir)).stdout));
  });

  it('chains (a extends b extends c), and a child list whose entries name no parent layer replaces the whole model', () => {
    const dir = project({
      'base/parent.yaml': PARENT,
      'base/mid.yaml': 'extends: parent.yaml\nname: mid\ntrain: { batchSize: 20 }\nsweep: { train.optimizer.learningRate: null }\n',
      'leaf.yaml': `extends: base/mid.yaml
name: leaf
model:
  layers:
    - { type: flatten }
    - { type: dense, units: 10, activation: softmax, name: out }
`,
    });
    const { resolved } = loadExperiment(join(dir, 'leaf.yaml'));
    expect(resolved.model.layers).toEqual([
      { type: 'flatten' },
      { type: 'dense', units: 10, activation: 'softmax', name: 'out', useBias: true, kernelInitializer: 'glorotUniform' },
    ]);
    expect(resolved.train).toMatchObject({ batchSize: 20, epochs: 2, seed: 3 });
    expect(resolved.name).toBe('leaf');
    expect(resolved.sweep).toEqual({});
  });

  it('a layer override with another type replaces the layer in place and keeps its name; data.path is relative to the file that wrote it', () => {
    const dir = project({
      'base/parent.yaml': PARENT.replace('data: {', 'data: { path: ../data,'),
      'child.yaml': 'extends: base/parent.yaml\nname: child\nmodel:\n  layers:\n    - { name: drop1, type: activation, activation: relu }\n',
    });
    const { resolved } = loadExperiment(join(dir, 'child.yaml'));
    expect(resolved.model.layers[2]).toEqual({ name: 'drop1', type: 'activation', activation: 'relu' });
    expect(resolved.data.path).toBe(join(dir, 'data'));
    // A --set of data.path is the command line's, relative to the file named, whichever file first wrote the field.
    expect(loadExperiment(join(dir, 'child.yaml'), [parseOverride('data.path=mine')]).resolved.data.path).toBe(join(dir, 'mine'));
  });

  it('takes an absolute parent path as it is', () => {
    const dir = project({ 'base/parent.yaml': PARENT, 'elsewhere/child.yaml': 'name: child\n' });
    writeFileSync(join(dir, 'elsewhere', 'child.yaml'), `extends: ${join(dir, 'base', 'parent.yaml')}\nname: child\n`);
    expect(loadExperiment(join(dir, 'elsewhere', 'child.yaml')).resolved.model.layers).toHaveLength(5);
  });

  it('blames a problem on the file that wrote the value: an inherited one on the parent, at its line, with the files that inherit it', async () => {
    const dir = project({
      'parent.yaml': PARENT.replace('padding: same, activation: relu', 'padding: same, activaton: relu'),
      'mid.yaml': 'extends: parent.yaml\nname: mid\ntrain: { batchSize: 0 }\n',
      'leaf.yaml': 'extends: mid.yaml\nname: leaf\ntrain:\n  epoch: 3\n',
    });
    const leaf = await runCli(['validate', join(dir, 'leaf.yaml')]);
    expect(leaf.status).toBe(2);
    expect(leaf.stderr).toContain('leaf.yaml: 3 problems');
    const [own, fromMid, fromParent] = leaf.stderr.split(/\n\n/);
    expect(own).toContain(`${join(dir, 'leaf.yaml')}:4:3 train.epoch: unknown field \`epoch\` for \`train\`; did you mean \`epochs\`?`);
    expect(fromMid).toContain(`${join(dir, 'mid.yaml')}:3:21 train.batchSize: \`batchSize\` must be an integer in [1, 60000], got 0`);
    expect(fromMid).toContain(`inherited by ${join(dir, 'leaf.yaml')}`);
    expect(fromParent).toContain(`${join(dir, 'parent.yaml')}:6:78 model.layers[0].activaton: unknown field \`activaton\` for a conv2d layer; did you mean \`activation\`?`);
    expect(fromParent).toContain(`inherited by ${join(dir, 'mid.yaml')}, extended by ${join(dir, 'leaf.yaml')}`);
  });

  it('a missing parent, a parent that is no mapping, a cycle and a child without its own name are errors at the `extends:` line', async () => {
    const dir = project({
      'parent.yaml': PARENT,
      'missing.yaml': 'name: missing\nextends: nowhere.yaml\n',
      'list.yaml': '- 1\n- 2\n',
      'not-a-mapping.yaml': 'name: x\nextends: list.yaml\n',
      'a.yaml': 'name: a\nextends: b.yaml\n',
      'b.yaml': 'name: b\nextends: a.yaml\n',
      'nameless.yaml': 'extends: parent.yaml\ntrain: { epochs: 1 }\n',
    });
    const files = ['missing', 'not-a-mapping', 'a', 'nameless'].map((f) => join(dir, `${f}.yaml`));
    const result = await runCli(['validate', ...files]);
    expect(result.status).toBe(2);
    expect(result.stdout).toContain('0 of 4 files valid');
    const at = (file: string, line: number) => `${join(dir, file)}:${line}:1 `;
    expect(result.stderr).toContain(`${at('missing.yaml', 2)}extends \`${join(dir, 'nowhere.yaml')}\`: cannot read the experiment file: no such file`);
    expect(result.stderr).toContain(`${at('not-a-mapping.yaml', 2)}extends \`${join(dir, 'list.yaml')}\`, which is not an experiment`);
    expect(result.stderr).toContain(`${at('b.yaml', 2)}extends: \`extends\` makes a cycle: ${['a', 'b', 'a'].map((f) => join(dir, `${f}.yaml`)).join(' → ')}`);
    expect(result.stderr).toContain(`${at('nameless.yaml', 1)}extends: a file that extends another needs its own \`name\``);
  });

  it('layer edits that could mean two things are errors at the child entry, with a hint', () => {
    const problems = (layers: string) => {
      const dir = project({ 'parent.yaml': PARENT, 'child.yaml': `extends: parent.yaml\nname: child\nmodel:\n  layers:\n${layers}` });
      return problemsOf(join(dir, 'child.yaml')).map((p) => ({ line: p.line, path: p.path, message: p.message, hint: p.hint, file: p.file.split('/').pop() }));
    };
    // A new name without a position: an insert whose place is unsaid, or an override whose name has a typo.
    expect(problems('    - { name: drop1, rate: 0.3 }\n    - { name: dorp2, type: dropout, rate: 0.2 }\n')).toEqual([
      expect.objectContaining({ file: 'child.yaml', line: 6, path: 'model.layers[1].name', message: expect.stringContaining('has no layer named `dorp2`'), hint: expect.stringContaining('after: <name or index>') }),
    ]);
    // Alone and without a type, a misspelt override would otherwise replace the whole model.
    expect(problems('    - { name: drop2, rate: 0.3 }\n')[0]).toMatchObject({ line: 5, message: expect.stringContaining('has no layer named `drop2`; did you mean `drop1`?') });
    expect(problems('    - { type: dropout, rate: 0.2, after: conv1, before: 3 }\n')[0]).toMatchObject({ message: 'a new layer goes either after or before another, not both' });
    expect(problems('    - { type: dropout, rate: 0.2, after: conv2 }\n')[0]).toMatchObject({ path: 'model.layers[0].after', message: expect.stringContaining('did you mean `conv1`?') });
    expect(problems('    - { type: dropout, rate: 0.2, before: 9 }\n')[0]!.message).toContain('`before` must be the name or index (0..4)');
    expect(problems('    - { name: drop1, remove: true, rate: 0.1 }\n')[0]).toMatchObject({ message: 'a removed layer takes no other fields (`rate`)' });
    expect(problems('    - { name: drop1, rate: 0.1 }\n    - { at: 2, remove: true }\n')[0]).toMatchObject({ line: 6, message: expect.stringContaining('model.layers[2] of the parent') });
    expect(problems('    - { name: drop1, rate: 0.1 }\n    - { type: flatten }\n')[0]).toMatchObject({ line: 6, message: expect.stringContaining('this entry edits no layer') });
    expect(problems('    - { type: dropout, name: drop1, rate: 0.2, after: 0 }\n')[0]).toMatchObject({ message: expect.stringContaining('an inserted layer needs a new name') });
  });

  it('the schema knows `extends`, and only a file without it must give a model', () => {
    expect(schemaErrors({ extends: 'seed-cnn.yaml', name: 'x' })).toEqual([]);
    expect(schemaErrors({ name: 'x' }).map((e) => e.params)).toContainEqual({ missingProperty: 'model' });
    expect(schemaErrors({ extends: 3, name: 'x' }).map((e) => e.instancePath)).toContain('/extends');
  });

  it('the experiments that extend seed-cnn.yaml resolve to the very trials recorded before they did', () => {
    // Seed-42 trial hashes from before the rewrite: the run database pairs recorded runs by them.
    const recorded: Record<string, string> = {
      'augmented-cnn.yaml': '4412feba2433451a',
      'best-effort.yaml': '197554337c247fbf',
      'cnn-batchnorm.yaml': 'd457fae14e7f4340',
      'cnn-dropout.yaml': '7ddcb0529200147f',
    };
    for (const [name, hash] of Object.entries(recorded)) {
      const file = join(ROOT, 'experiments', name);
      expect(readFileSync(file, 'utf8'), name).toContain('extends: seed-cnn.yaml');
      expect(expandTrials(loadExperiment(file))[0]!.hash, name).toBe(hash);
    }
  });
});
