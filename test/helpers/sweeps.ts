import Database from 'better-sqlite3';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { gunzipSync, gzipSync } from 'node:zlib';
import { IDX_FILES, locateDataset } from '../../src/data/locate.js';
import { runsDirFor } from '../../src/store/run-folders.js';
import { CLI, ROOT, runCli } from './cli.js';

/**
 * A tiny real experiment: a small CNN on a slice of the real dataset, a second or two per trial. It names its
 * backend: `auto` probes the native backends in a child process (about a second per command), which the tests of
 * that choice cover; these tests are about sweeps.
 */
export function tinyExperiment(name: string, extra = '', train = 'epochs: 2', data = 'trainLimit: 600, testLimit: 300'): string {
  return `name: ${name}
backend: wasm
data: { ${data} }
model:
  layers:
    - { type: conv2d, filters: 4, kernelSize: 3, padding: same, activation: relu }
    - { type: maxPooling2d, poolSize: 2 }
    - { type: flatten }
    - { type: dense, units: 10, activation: softmax }
train: { ${train}, batchSize: 50, seed: 3 }
${extra}`;
}

export interface RunningCli {
  child: ChildProcess;
  done: Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Starts the built CLI without waiting for it, for tests that signal or kill it mid-sweep. */
export function startCli(args: string[], cwd = ROOT, env: Record<string, string> = {}): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, FORCE_COLOR: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => (stderr += c));
  const done = new Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (status, signal) => resolve({ status, signal, stdout, stderr })),
  );
  return { child, done };
}

/** Rows of a query against the run database (read-only, while a sweep may be writing). */
export function query<T>(dbPath: string, sql: string, ...args: unknown[]): T[] {
  if (!existsSync(dbPath)) return [];
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...args) as T[];
  } catch {
    return [];
  } finally {
    db.close();
  }
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface RunState {
  id: string;
  status: string;
  finished_at: string | null;
  epochs_done: number;
  epoch_budget: number | null;
  test_accuracy: number | null;
  test_loss: number | null;
  confusion_json: string | null;
  class_metrics_json: string | null;
  model_dir: string | null;
}

/**
 * Everything in the database and its runs directory (`runsDirFor` it) that is not whole: runs still `running`, finished runs
 * without an end time, epoch rows that disagree with `epochs_done`, completed runs without their test score,
 * confusion matrix, class metrics or saved model, and directories on disk that belong to no completed or interrupted
 * run, or hold a half-saved model. Empty when a sweep left nothing half-written.
 */
export function halfWritten(db: string): string[] {
  const runsDir = runsDirFor(db);
  const problems: string[] = [];
  const runs = query<RunState>(db, 'SELECT * FROM runs');
  const epochs = new Map(query<{ run_id: string; n: number }>(db, 'SELECT run_id, COUNT(*) AS n FROM epochs GROUP BY run_id').map((e) => [e.run_id, e.n]));
  for (const run of runs) {
    const at = `run ${run.id} (${run.status})`;
    if (run.status === 'running') problems.push(`${at} is still running`);
    if (!run.finished_at) problems.push(`${at} has no finished_at`);
    if ((epochs.get(run.id) ?? 0) !== run.epochs_done) problems.push(`${at} has ${epochs.get(run.id) ?? 0} epoch rows but epochs_done ${run.epochs_done}`);
    if (run.status !== 'completed') {
      if (run.model_dir) problems.push(`${at} points at a model`);
      continue;
    }
    if (run.test_accuracy === null || run.test_loss === null) problems.push(`${at} has no test score`);
    const confusion = run.confusion_json ? (JSON.parse(run.confusion_json) as number[][]) : [];
    if (confusion.length !== 10 || confusion.flat().reduce((a, b) => a + b, 0) === 0) problems.push(`${at} has no confusion matrix`);
    if (!run.class_metrics_json) problems.push(`${at} has no class metrics`);
    if (!run.model_dir || !['model.json', 'weights.bin'].every((f) => existsSync(join(run.model_dir!, f)))) problems.push(`${at} has no saved model`);
  }
  // A completed run keeps its model, and its checkpoint while paused at an epoch budget; an interrupted one only its checkpoint.
  const expected = new Map(
    runs.flatMap((r): [string, string[]][] => {
      if (r.status === 'completed') return [[r.id, r.epoch_budget === null ? ['model'] : ['checkpoint', 'model']]];
      if (r.status === 'interrupted') return [[r.id, ['checkpoint']]];
      return [];
    }),
  );
  const folders = existsSync(runsDir) ? readdirSync(runsDir, { withFileTypes: true }).filter((e) => e.isDirectory()) : [];
  for (const entry of folders) {
    const wanted = expected.get(entry.name);
    const held = readdirSync(join(runsDir, entry.name)).sort();
    if (!wanted) problems.push(`directory ${entry.name} belongs to no completed or interrupted run`);
    else if (held.some((name) => !wanted.includes(name)) || (wanted.includes('model') && !held.includes('model'))) problems.push(`directory ${entry.name} holds ${held.join(', ')}`);
  }
  return problems;
}

/**
 * A directory holding the real Fashion-MNIST (links to the copy this machine has), for experiments that name
 * their own `data.path`. `truncatedLabels` drops the last training labels, as a cut-short copy would.
 */
export function datasetCopy(dir: string, options: { truncatedLabels?: boolean } = {}): string {
  const real = locateDataset({});
  if (!real || 'missingExplicit' in real || real.format !== 'idx') throw new Error('these tests need Fashion-MNIST as IDX files (apt-get install dataset-fashion-mnist)');
  for (const file of Object.values(IDX_FILES)) {
    if (options.truncatedLabels && file === IDX_FILES.trainLabels) {
      truncateTrainLabels(dir);
    } else {
      symlinkSync(join(real.dir, file), join(dir, file));
    }
  }
  return dir;
}

/** Replaces a copy's training labels with a gzip holding 1,000 labels fewer than its header promises. */
export function truncateTrainLabels(dir: string): void {
  const real = locateDataset({});
  if (!real || 'missingExplicit' in real) throw new Error('these tests need Fashion-MNIST (apt-get install dataset-fashion-mnist)');
  const labels = gunzipSync(readFileSync(join(real.dir, IDX_FILES.trainLabels)));
  rmSync(join(dir, IDX_FILES.trainLabels), { force: true });
  writeFileSync(join(dir, IDX_FILES.trainLabels), gzipSync(labels.subarray(0, labels.length - 1000)));
}

/** Three trials long enough (several seconds each at 3,000 images) to be caught mid-flight. */
export const SLOW_GRID = 'sweep:\n  train.optimizer.learningRate: [0.01, 0.003, 0.001]\n';
export const slowExperiment = (name: string, trainLimit = 3000) => tinyExperiment(name, SLOW_GRID, 'epochs: 8').replace('trainLimit: 600', `trainLimit: ${trainLimit}`);

export const statuses = (db: string) => query<{ config_hash: string; status: string; error: string | null }>(db, 'SELECT config_hash, status, error FROM runs ORDER BY started_at');
export const completedOnce = (db: string) => {
  const completed = statuses(db).filter((r) => r.status === 'completed').map((r) => r.config_hash);
  return { completed: completed.length, distinct: new Set(completed).size };
};

/** The sweep's trial processes (not its other children, such as the WebGPU adapter probe). */
export function workerPids(parent: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(parent), '-f', 'trial/worker.js'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs the same sweep again to the end: every trial ends completed exactly once, and nothing is half-written. */
export async function resumeToTheEnd(file: string, db: string, trials = 3): Promise<void> {
  const resumed = await runCli(['sweep', file, '--db', db]);
  expect(resumed.status, resumed.stderr).toBe(0);
  expect(completedOnce(db)).toEqual({ completed: trials, distinct: trials });
  expect(halfWritten(db)).toEqual([]);
}
