import * as tf from '@tensorflow/tfjs';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli, tempDir, writeTemp } from './helpers/cli.js';
import { datasetCopy, halfWritten, query, tinyExperiment } from './helpers/sweeps.js';

interface Run {
  id: string;
  status: string;
  params_json: string;
  test_accuracy: number;
  confusion_json: string;
  class_metrics_json: string;
  backend: string;
  tfjs_version: string;
  epochs_done: number;
  best_epoch: number;
  model_dir: string;
  error: string | null;
}

describe('runner sweep, end to end on the real dataset', () => {
  it('trains every trial of a grid and records runs, epochs and confusion matrices; a re-run skips them', async () => {
    const dir = tempDir();
    const file = writeTemp('tiny.yaml', tinyExperiment('tiny', 'sweep:\n  train.optimizer.learningRate: [0.01, 0.003]\n'), dir);
    const db = join(dir, 'runs.sqlite');
    // --backend wasm: `auto` would pick tfjs-node(-gpu) where it installs, and this test checks the backend recorded.
    const first = await runCli(['sweep', file, '--db', db, '--backend', 'wasm']);
    expect(first.stderr).toContain('sweep: 2 completed');
    expect(first.status).toBe(0);

    const runs = query<Run>(db, 'SELECT * FROM runs ORDER BY started_at');
    expect(runs).toHaveLength(2);
    for (const run of runs) {
      expect(run.status).toBe('completed');
      expect(run.backend).toBe('wasm');
      expect(run.tfjs_version).toBe('4.22.0');
      expect(run.epochs_done).toBe(2);
      const confusion = JSON.parse(run.confusion_json) as number[][];
      expect(confusion).toHaveLength(10);
      expect(confusion.flat().reduce((a, b) => a + b, 0)).toBe(300);
      const diagonal = confusion.reduce((sum, row, k) => sum + row[k]!, 0);
      expect(diagonal / 300).toBeCloseTo(run.test_accuracy, 10);
      // Two epochs on 600 images already beat chance (10%) by far.
      expect(run.test_accuracy).toBeGreaterThan(0.4);
      expect(JSON.parse(run.class_metrics_json)).toHaveLength(10);
      expect(existsSync(join(run.model_dir, 'model.json'))).toBe(true);
      expect(existsSync(join(run.model_dir, 'weights.bin'))).toBe(true);
    }
    expect(runs.map((r) => JSON.parse(r.params_json))).toEqual([{ 'train.optimizer.learningRate': 0.01 }, { 'train.optimizer.learningRate': 0.003 }]);
    const epochs = query<{ run_id: string; epoch: number; loss: number; val_accuracy: number }>(db, 'SELECT * FROM epochs ORDER BY run_id, epoch');
    expect(epochs).toHaveLength(4);
    expect(epochs.every((e) => Number.isFinite(e.loss) && e.val_accuracy > 0)).toBe(true);

    const again = await runCli(['sweep', file, '--db', db, '--backend', 'wasm']);
    expect(again.status).toBe(0);
    expect(again.stderr).toContain('2 already completed');
    expect(query(db, 'SELECT id FROM runs')).toHaveLength(2);

    const report = await runCli(['report', '--top', '5', '--json', '--db', db]);
    expect(report.status).toBe(0);
    const board = JSON.parse(report.stdout) as { entries: { runIds: string[]; accuracy: { mean: number } }[] };
    expect(board.entries).toHaveLength(2);
    expect(board.entries[0]!.accuracy.mean).toBeGreaterThanOrEqual(board.entries[1]!.accuracy.mean);
  });

  it('records a trial whose loss explodes as diverged, and the sweep goes on and says so', async () => {
    const dir = tempDir();
    // A linear output with squared error and an absurd learning rate overflows to Infinity within a few steps.
    const yaml = tinyExperiment('wild', 'sweep:\n  train.optimizer.learningRate: [1.0e+12, 0.003]\n', 'epochs: 2, loss: meanSquaredError, optimizer: { name: sgd }').replace(
      'activation: softmax',
      'activation: linear',
    );
    const file = writeTemp('wild.yaml', yaml, dir);
    const db = join(dir, 'runs.sqlite');
    const result = await runCli(['sweep', file, '--db', db, '--concurrency', '1']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/1 completed.*1 diverged/);
    const runs = query<Run>(db, 'SELECT * FROM runs ORDER BY started_at');
    expect(runs.map((r) => r.status)).toEqual(['diverged', 'completed']);
    expect(runs[0]!.error).toMatch(/loss became (NaN|Infinity)/);
  });

  it('stops early when the monitored metric stops improving and keeps the best epoch', async () => {
    const dir = tempDir();
    const file = writeTemp(
      'early.yaml',
      tinyExperiment('early', '', 'epochs: 6, earlyStopping: { monitor: valLoss, patience: 1, minDelta: 10 }'),
      dir,
    );
    const db = join(dir, 'runs.sqlite');
    expect((await runCli(['sweep', file, '--db', db])).status).toBe(0);
    const [run] = query<Run>(db, 'SELECT * FROM runs');
    // Epoch 1 sets the best; epoch 2 cannot improve on it by 10, and one epoch without improvement is
    // Keras's patience 1 used up, so training ends after epoch 2 with epoch 1's weights.
    expect(run).toMatchObject({ status: 'completed', epochs_done: 2, best_epoch: 1 });
    expect(query(db, 'SELECT epoch FROM epochs')).toHaveLength(2);
  });

  it('plan shows each trial\'s size, says when nothing is measured, and estimates from the runs a sweep recorded', async () => {
    const dir = tempDir();
    const file = writeTemp('tiny.yaml', tinyExperiment('tiny', 'sweep:\n  train.optimizer.learningRate: [0.01, 0.003]\n'), dir);
    const db = join(dir, 'runs.sqlite');
    const plan = (...args: string[]) => runCli(['plan', file, '--db', db, '--backend', 'wasm', '--concurrency', '2', ...args]);
    const rowsOf = (stdout: string) => stdout.split('\n').filter((l) => l.includes('tiny learningRate='));

    const before = await plan();
    expect(before.status, before.stderr).toBe(0);
    // conv 3×3×1→4 (36 weights + 4 biases) and dense 784→10 (7,840 + 10): 7,890 parameters.
    expect(rowsOf(before.stdout).map((l) => l.split('│').map((c) => c.trim()).slice(3, 5))).toEqual([['7,890', '39,200'], ['7,890', '39,200']]);
    expect(rowsOf(before.stdout).every((l) => l.includes('not measured yet'))).toBe(true);
    expect(before.stdout).toContain('2 trials on wasm, 2 at a time; 2 not measured yet');
    expect(existsSync(db)).toBe(false);

    expect((await runCli(['sweep', file, '--db', db, '--backend', 'wasm'])).status).toBe(0);
    expect((await plan()).stdout).toContain('2 already completed (skipped)');
    const forced = await plan('--force');
    expect(rowsOf(forced.stdout).every((l) => /\d+(\.\d)?s \(same config\)/.test(l))).toBe(true);
    expect(forced.stdout).toMatch(/about \S+ of wall time for all to run/);
    // Twice the training images: no run of this config, but the experiment's runs lend their throughput.
    const larger = await plan('--set', 'data.trainLimit=1200');
    expect(rowsOf(larger.stdout).every((l) => l.includes('(same experiment)'))).toBe(true);
    // Another experiment never run on this database is scaled from these runs by its multiply-adds.
    const other = await runCli(['plan', join(ROOT, 'experiments', 'quick.yaml'), '--db', db, '--backend', 'wasm']);
    expect(other.stdout).toContain('(other experiments)');
  });

  it('--set overrides fields and --dry-run trains nothing', async () => {
    const dir = tempDir();
    const file = writeTemp('tiny.yaml', tinyExperiment('tiny'), dir);
    const db = join(dir, 'runs.sqlite');
    const plan = await runCli(['sweep', file, '--db', db, '--dry-run', '--set', 'train.epochs=1', '--repeat', '3']);
    expect(plan.status).toBe(0);
    expect(plan.stdout).toContain('3 trials');
    expect(existsSync(db)).toBe(false);
    const result = await runCli(['sweep', file, '--db', db, '--set', 'train.epochs=1']);
    expect(result.status).toBe(0);
    expect(query<Run>(db, 'SELECT * FROM runs')[0]).toMatchObject({ epochs_done: 1 });
  });

  it('every file in experiments/ trains on the default backend (one short epoch each)', async () => {
    const dir = tempDir();
    const db = join(dir, 'runs.sqlite');
    const files = readdirSync(join(ROOT, 'experiments')).filter((f) => f.endsWith('.yaml')).map((f) => join(ROOT, 'experiments', f));
    const result = await runCli(['sweep', ...files, '--db', db, '--repeat', '1', '--set', 'train.epochs=1', '--set', 'data.trainLimit=200', '--set', 'data.testLimit=200']);
    expect(result.status, result.stderr).toBe(0);
    const runs = query<Run & { experiment: string }>(db, 'SELECT * FROM runs');
    expect(new Set(runs.map((r) => r.experiment)).size).toBe(files.length);
    // Whatever `auto` chose on this machine (wasm, or tfjs-node where it installs) is what every run recorded.
    const chosen = /^backend: (\w+)/m.exec(result.stderr)?.[1];
    expect(['wasm', 'tensorflow']).toContain(chosen);
    expect(runs.every((r) => r.status === 'completed' && r.backend === chosen)).toBe(true);
  });

  it('a sweep of several files reads each file\'s own data.path', async () => {
    const dir = tempDir();
    const good = datasetCopy(tempDir('runner-data-'));
    const cut = datasetCopy(tempDir('runner-data-'), { truncatedLabels: true });
    const withData = (name: string, path: string) => tinyExperiment(name, '', 'epochs: 1').replace('data: {', `data: { path: ${JSON.stringify(path)},`);
    const a = writeTemp('a.yaml', withData('a', good), dir);
    const b = writeTemp('b.yaml', withData('b', cut), dir);
    const db = join(dir, 'runs.sqlite');
    // The parent reads both copies before any trial starts: b's cut-short one stops the sweep, a's passed.
    const refused = await runCli(['sweep', a, b, '--db', db, '--concurrency', '1']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(join(cut, 'train-labels-idx1-ubyte.gz'));
    expect(existsSync(db)).toBe(false);
    const result = await runCli(['sweep', a, '--db', db]);
    expect(result.stderr).toContain(`data: ${good} (data.path in the experiment file)`);
    expect(query<Run & { experiment: string }>(db, 'SELECT * FROM runs').map((r) => [r.experiment, r.status])).toEqual([['a', 'completed']]);
    expect(result.status).toBe(0);
    expect(halfWritten(db)).toEqual([]);
  });

  it('export-model writes a tfjs model that loads back and predicts ten class probabilities', async () => {
    const dir = tempDir();
    const file = writeTemp('tiny.yaml', tinyExperiment('tiny', '', 'epochs: 1'), dir);
    const db = join(dir, 'runs.sqlite');
    expect((await runCli(['sweep', file, '--db', db])).status).toBe(0);
    const [run] = query<Run>(db, 'SELECT * FROM runs');
    const target = join(dir, 'exported');
    const exported = await runCli(['export-model', run!.id.slice(0, 6), target, '--db', db]);
    expect(exported.status).toBe(0);
    const manifest = JSON.parse(readFileSync(join(target, 'model.json'), 'utf8'));
    const weights = readFileSync(join(target, 'weights.bin'));
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: manifest.modelTopology, weightSpecs: manifest.weightsManifest[0].weights, weightData: new Uint8Array(weights).buffer }),
    );
    const probabilities = tf.tidy(() => (model.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor).sum(1).arraySync() as number[]);
    expect(probabilities.map((p) => Number(p.toFixed(4)))).toEqual([1, 1]);
    expect((await runCli(['export-model', run!.id, target, '--db', db])).status).toBe(2);
  });
});
