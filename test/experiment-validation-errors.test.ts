import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExperiment, parseOverride } from '../src/config/load-experiment.js';
import { UserError, type Problem } from '../src/errors.js';
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

const LAYERS = `model:
  layers:
    - { type: flatten }
    - { type: dense, units: 10, activation: softmax }
`;

describe('experiment files are validated with positioned, actionable messages', () => {
  it('every file in experiments/ is valid', () => {
    const dir = join(ROOT, 'experiments');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      expect(() => loadExperiment(join(dir, file)), file).not.toThrow();
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

  it('says when a bad value came from --set rather than the file', () => {
    const [problem] = problemsOf(`name: t\n${LAYERS}`, ['train.epochs=-1']);
    expect(problem!.message).toContain('(from --set train.epochs=-1)');
  });

  it('the CLI exits 2 with file:line and no stack trace, and summarises several files', () => {
    const good = join(ROOT, 'experiments', 'quick.yaml');
    const bad = writeTemp('bad.yaml', `name: t\nmodel:\n  layers:\n    - { type: dense, units: 10, activation: sofmax }\n`);
    const result = runCli(['validate', good, bad]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${bad}:4:`);
    expect(result.stderr).toContain('did you mean `softmax`?');
    expect(result.stdout).toContain('1 of 2 files valid');
    expect(result.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
  });
});
