import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadExperiment } from '../src/config/load-experiment.js';
import type { Comparison } from '../src/report/compare.js';
import type { DiffResult } from '../src/report/diff.js';
import type { Leaderboard } from '../src/report/leaderboard.js';
import type { RunDetails } from '../src/report/run-details.js';
import { expandTrials, type TrialSpec } from '../src/sweep/expand.js';
import { RunStore, type Run, type RunOutcome } from '../src/store/run-store.js';
import { runCli, tempDir, writeTemp } from './helpers/cli.js';

/** Runs recorded straight through the store (nothing trained): units 8 and 16 on main, 8 and 32 on feature, two seeds each. */
const experiment = `name: tiny
data: { trainLimit: 600, testLimit: 500 }
model:
  input: [28, 28, 1]
  layers:
    - { type: flatten }
    - { type: dense, units: 16, activation: relu }
    - { type: dense, units: 10, activation: softmax }
train: { epochs: 2, seed: 1 }
repeat: 2
sweep:
  model.layers.1.units: [8, 16, 32]
`;

const confusion = Array.from({ length: 10 }, (_, t) => Array.from({ length: 10 }, (_, p) => (t === p ? 40 : (t + p) % 3)));
const outcome = (accuracy: number): RunOutcome => ({
  status: 'completed',
  testAccuracy: accuracy,
  testLoss: 1 - accuracy,
  seconds: 12.5,
  paramCount: 12_730,
  bestEpoch: 2,
  gpu: true,
  tfjsVersion: '4.22.0',
  device: { vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device', description: 'SwiftShader' },
  confusion,
  classMetrics: confusion.map(() => ({ precision: 0.9, recall: 0.8, f1: 0.85, support: 50 })),
  mistakes: [{ index: 7, label: 3, predicted: 5, confidence: 0.75 }],
});

let db: string;
const cli = (...args: string[]) => runCli([...args, '--db', db]);
const json = async <T>(...args: string[]): Promise<T> => {
  const result = await cli(...args, '--json');
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
};

beforeAll(() => {
  const dir = tempDir('runner-db-');
  db = join(dir, 'runs.sqlite');
  const trials = expandTrials(loadExperiment(writeTemp('tiny.yaml', experiment, dir)), {});
  const units = (t: TrialSpec) => t.params['model.layers.1.units'] as number;
  const store = new RunStore(db);
  const sweepId = store.startSweep('test');
  let next = 0;
  const record = (spec: TrialSpec, branch: string, result: RunOutcome, params = spec.params) => {
    const id = `run-${String(next++).padStart(3, '0')}`;
    store.startRun({ id, sweepId, experiment: spec.experiment, file: 'tiny.yaml', config: spec.config, configHash: spec.hash, params, seed: spec.config.train.seed, repeatIndex: spec.repeatIndex, git: { branch, commit: `${branch}0000`, dirty: false }, backend: 'webgpu' });
    store.recordEpoch(id, { epoch: 1, loss: 0.9, accuracy: 0.7, valLoss: 0.8, valAccuracy: 0.72, seconds: 6, validationSeconds: 1 });
    store.recordEpoch(id, { epoch: 2, loss: 0.6, accuracy: 0.8, valLoss: 0.7, valAccuracy: 0.79, seconds: 6, validationSeconds: 1 });
    store.finishRun(id, result);
  };
  trials.filter((t) => units(t) !== 32).forEach((t, i) => record(t, 'main', outcome(0.8 + i / 100)));
  trials.filter((t) => units(t) === 8).forEach((t, i) => record(t, 'feature', outcome(0.84 + i / 100)));
  // A swept string with a pipe in it, which a Markdown cell must escape.
  trials.filter((t) => units(t) === 32).forEach((t) => record(t, 'feature', outcome(0.7), { ...t.params, 'model.layers.1.name': 'wide|dense' }));
  const [broken] = trials.filter((t) => units(t) === 16);
  record(broken!, 'feature', { status: 'failed', error: 'worker crashed' });
  store.close();
});

/** Every string in the output, wherever it is nested: none may be JSON text that a consumer has to parse again. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(strings);
}

function keys(value: unknown): string[] {
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => [key, ...keys(child)]);
}

function expectNestedCamelCase(output: unknown): void {
  const encoded = strings(output).filter((text) => /^\s*[[{]/.test(text));
  expect(encoded).toEqual([]);
  expect(keys(output).filter((key) => key.includes('_'))).toEqual([]);
}

const isObject = (value: unknown) => value !== null && typeof value === 'object' && !Array.isArray(value);

describe('--json is nested JSON with camelCase fields', () => {
  it('list: every field typed, config and params objects, numbers numbers, flags booleans', async () => {
    const runs = await json<Run[]>('list');
    expect(runs).toHaveLength(9);
    expectNestedCamelCase(runs);
    for (const run of runs) {
      expect(isObject(run.config)).toBe(true);
      expect(run.config.model.layers).toHaveLength(3);
      expect(isObject(run.params)).toBe(true);
      for (const field of ['sweepId', 'seed', 'repeatIndex', 'pid', 'epochsDone'] as const) expect(typeof run[field]).toBe('number');
      expect(run.git).toEqual({ commit: `${run.git.branch}0000`, branch: expect.stringMatching(/^(main|feature)$/), dirty: false });
      expect(run.startedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    }
    const completed = runs.find((r) => r.status === 'completed')!;
    expect(completed).toMatchObject({ testAccuracy: expect.any(Number), testLoss: expect.any(Number), seconds: 12.5, paramCount: 12_730, gpu: true, backend: 'webgpu' });
    expect(completed.device).toEqual({ vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device', description: 'SwiftShader' });
    expect(completed.confusion).toEqual(confusion);
    expect(completed.classMetrics![0]).toEqual({ precision: 0.9, recall: 0.8, f1: 0.85, support: 50 });
    expect(completed.mistakes).toEqual([{ index: 7, label: 3, predicted: 5, confidence: 0.75 }]);
    const failed = runs.find((r) => r.status === 'failed')!;
    expect(failed).toMatchObject({ error: 'worker crashed', testAccuracy: null, confusion: null, classMetrics: null, mistakes: [], device: null, gpu: null });
  });

  it('show: the run exactly as list has it, plus its epochs and class names', async () => {
    const listed = (await json<Run[]>('list')).find((r) => r.git.branch === 'feature' && r.status === 'completed')!;
    const { epochs, classes, ...run } = await json<RunDetails>('show', listed.id);
    expect(run).toEqual(listed);
    expect(epochs).toEqual([
      { epoch: 1, loss: 0.9, accuracy: 0.7, valLoss: 0.8, valAccuracy: 0.72, seconds: 6, validationSeconds: 1 },
      { epoch: 2, loss: 0.6, accuracy: 0.8, valLoss: 0.7, valAccuracy: 0.79, seconds: 6, validationSeconds: 1 },
    ]);
    expect(classes).toHaveLength(10);
  });

  it('compare, diff and report: nested too, with the same run and stat shapes', async () => {
    const [a, b] = await json<Run[]>('list');
    const comparison = await json<Comparison>('compare', a!.id, b!.id);
    expectNestedCamelCase(comparison);
    expect(comparison.a.config).toEqual(a!.config);
    expect(comparison.configChanges).toEqual([{ path: 'train.seed', a: 1, b: 2 }]);
    expect(comparison.metrics.map((m) => m.name)).toEqual(['testAccuracy', 'testLoss', 'epochsDone', 'bestEpoch', 'seconds', 'paramCount']);
    expect(comparison.metrics[0]).toEqual({ name: 'testAccuracy', a: a!.testAccuracy, b: b!.testAccuracy, delta: expect.closeTo(b!.testAccuracy! - a!.testAccuracy!, 12), higherIsBetter: true });
    expect(comparison.metrics[2]!.higherIsBetter).toBeNull();

    const diff = await json<DiffResult>('diff', 'main', 'feature');
    expectNestedCamelCase(diff);
    const pair = (units: number) => diff.pairs.find((p) => p.params['model.layers.1.units'] === units)!;
    expect(diff.pairs.map((p) => p.params).sort((x, y) => Number(x['model.layers.1.units']) - Number(y['model.layers.1.units']))).toEqual([{ 'model.layers.1.units': 8 }, { 'model.layers.1.units': 16 }]);
    expect(pair(8).a.accuracy).toEqual({ mean: expect.closeTo(0.805, 12), std: expect.any(Number), n: 2 });
    expect(pair(16).b).toMatchObject({ failed: 1, accuracy: { mean: null, std: null, n: 0 } });
    expect(pair(16).brokenOnB).toBe(true);

    const board = await json<Leaderboard>('report');
    expectNestedCamelCase(board);
    expect(board.metric).toBe('testAccuracy');
    expect(board.entries[0]).toMatchObject({ rank: 1, experiment: 'tiny', branch: 'feature', backend: 'webgpu', epochs: 2, accuracy: { mean: expect.closeTo(0.845, 12), n: 2 } });
  });

  it('refuses a metric or a date it does not know, prototype names and out-of-range years included', async () => {
    for (const [args, message] of [
      [['report', '--metric', '__proto__'], '--metric __proto__: expected one of accuracy, loss, time'],
      [['report', '--metric', 'toString'], '--metric toString: expected one of accuracy, loss, time'],
      [['report', '--since', '99999'], '--since 99999: expected a date such as 2025-01-31'],
      [['report', '--since', '-1'], '--since -1: expected a date such as 2025-01-31'],
    ] as const) {
      const result = await cli(...args);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(message);
    }
    expect((await cli('report', '--since', '2020-01-31T14:00', '--json')).status).toBe(0);
  });

  it('refuses a second output format instead of picking one', async () => {
    for (const args of [['report', '--json', '--md'], ['report', '--json', '--csv'], ['diff', 'main', 'feature', '--md', '--json'], ['compare', 'run-000', 'run-001', '--json', '--md']]) {
      const result = await cli(...args);
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/option '--(json|md)' cannot be used with option '--(md|csv|json)'/);
      expect(result.stdout).toBe('');
    }
  });
});

/** A GitHub-flavoured Markdown table's cells, row by row, after checking its header and delimiter rows; `\|` stays in its cell. */
function markdownTable(text: string): string[][] {
  const rows = text.trim().split('\n');
  expect(rows.every((row) => row.startsWith('| ') && row.endsWith(' |')), text).toBe(true);
  const cells = rows.map((row) => row.slice(2, -2).split(/ (?<!\\)\| /).map((cell) => cell.trim()));
  expect(cells[1]!.every((cell) => /^:?-+:?$/.test(cell)), rows[1]).toBe(true);
  expect(new Set(cells.map((row) => row.length)).size, 'every row has the header row’s column count').toBe(1);
  return [cells[0]!, ...cells.slice(2)];
}

/** The cells of a cli-table3 table as the terminal shows it. */
function terminalTable(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('│'))
    .map((line) => line.slice(1, -1).split('│').map((cell) => cell.trim()));
}

/** The Markdown table that follows `heading` in `text`. */
function tableAfter(text: string, heading: string): string[][] {
  const start = text.indexOf(heading) + heading.length;
  const table = text.slice(start).trimStart().split('\n\n')[0]!;
  return markdownTable(table);
}

describe('--md prints Markdown tables for a pull-request comment', () => {
  it('report: one row per entry, the very cells of the terminal table, pipes escaped', async () => {
    const board = await json<Leaderboard>('report');
    const [head, ...rows] = markdownTable((await cli('report', '--md')).stdout);
    expect(head).toEqual(terminalTable((await cli('report')).stdout)[0]);
    expect(rows).toEqual(terminalTable((await cli('report')).stdout).slice(1).map((row) => row.map((cell) => cell.replace(/\|/g, '\\|'))));
    expect(rows).toHaveLength(board.entries.length);
    const accuracy = board.entries.map((e) => `${(e.accuracy.mean! * 100).toFixed(2)}${e.accuracy.std === null ? '%' : ` ± ${(e.accuracy.std * 100).toFixed(2)}%`}`);
    expect(rows.map((row) => row[head!.indexOf('test acc')])).toEqual(accuracy);
    expect(rows.map((row) => row[head!.indexOf('1.name')])).toContain('"wide\\|dense"');
  });

  it('diff: the paired configs with both sides and the delta, then the one-sided ones and the summary', async () => {
    const diff = await json<DiffResult>('diff', 'main', 'feature');
    const out = (await cli('diff', 'main', 'feature', '--md')).stdout;
    const [head, ...rows] = tableAfter(out, 'test accuracy; B − A in percentage points');
    expect(head).toEqual(['experiment', 'config', 'main', 'feature', 'B − A', 'significance']);
    expect(rows).toHaveLength(diff.pairs.length);
    const row = (units: number) => rows.find((cells) => cells[1]!.startsWith(`1.units=${units} `))!;
    const eight = diff.pairs.find((p) => p.params['model.layers.1.units'] === 8)!;
    expect(row(8).slice(0, 5)).toEqual(['tiny', `1.units=8 #${eight.configId}`, '80.50% ± 0.71 (n=2, best 81.00%)', '84.50% ± 0.71 (n=2, best 85.00%)', `+${(eight.delta! * 100).toFixed(2)} pts`]);
    expect(row(16).slice(3, 5)).toEqual(['1 failed', 'failed on B']);
    const [oneSidedHead, ...onlyFeature] = tableAfter(out, '**Only on feature**');
    expect(oneSidedHead).toEqual(['experiment', 'config', 'test accuracy', 'the other side ran this with']);
    expect(onlyFeature).toHaveLength(diff.onlyB.length);
    expect(onlyFeature[0]![1]).toMatch(/^1\.units=32 1\.name=wide\\\|dense #[0-9a-f]{8}$/);
    expect(out.trim().split('\n').pop()).toBe('2 configs on both sides: 1 better, 0 worse, 1 only failed on feature');
  });

  it('compare: config differences, metrics and per-class recall, each a table under its heading', async () => {
    const [a, b] = await json<Run[]>('list');
    const out = (await cli('compare', a!.id, b!.id, '--md')).stdout;
    expect(out.split('\n').slice(0, 2)).toEqual([`**A** ${a!.id} (tiny, main)  `, `**B** ${b!.id} (tiny, main)`]);
    expect(tableAfter(out, '### Config differences (1)')).toEqual([['path', 'A', 'B'], ['train.seed', '1', '2']]);
    const metrics = tableAfter(out, '### Metrics');
    expect(metrics[0]).toEqual(['metric', 'A', 'B', 'B − A']);
    expect(metrics[1]).toEqual(['test accuracy', `${(a!.testAccuracy! * 100).toFixed(2)}%`, `${(b!.testAccuracy! * 100).toFixed(2)}%`, '+1.00 pts']);
    expect(metrics).toHaveLength(7);
    const recall = tableAfter(out, '### Per-class recall (worst change first)');
    expect(recall).toHaveLength(11);
    expect(recall[1]).toEqual([expect.any(String), expect.stringMatching(/^\d+\.\d%$/), recall[1]![1], '±0.0 pts']);
  });
});
