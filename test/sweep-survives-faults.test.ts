import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSweep, type SweepReporter } from '../src/sweep/run-sweep.js';
import { runOutcome } from '../src/sweep/trial-outcome.js';
import { runCli, tempDir, writeTemp } from './helpers/cli.js';
import { datasetCopy, halfWritten, query, startCli, tinyExperiment, waitFor } from './helpers/sweeps.js';

/** Three trials long enough (several seconds each) to be caught mid-flight. */
const SLOW_GRID = 'sweep:\n  train.optimizer.learningRate: [0.01, 0.003, 0.001]\n';
const slowExperiment = (name: string) => tinyExperiment(name, SLOW_GRID, 'epochs: 8').replace('trainLimit: 600', 'trainLimit: 3000');

const statuses = (db: string) => query<{ config_hash: string; status: string; error: string | null }>(db, 'SELECT config_hash, status, error FROM runs ORDER BY started_at');
const completedOnce = (db: string) => {
  const completed = statuses(db).filter((r) => r.status === 'completed').map((r) => r.config_hash);
  return { completed: completed.length, distinct: new Set(completed).size };
};

/** The sweep's trial processes (not its other children, such as the WebGPU adapter probe). */
function workerPids(parent: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(parent), '-f', 'trial/worker.js'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs the same sweep again to the end: every trial ends completed exactly once, and nothing is half-written. */
function resumeToTheEnd(file: string, db: string, trials = 3): void {
  const resumed = runCli(['sweep', file, '--db', db]);
  expect(resumed.status, resumed.stderr).toBe(0);
  expect(completedOnce(db)).toEqual({ completed: trials, distinct: trials });
  expect(halfWritten(db, join(db, '..'))).toEqual([]);
}

describe('sweeps lose no finished work', () => {
  it('after kill -9 of the runner, the next invocation marks its runs interrupted and finishes every trial exactly once', async () => {
    const dir = tempDir();
    const file = writeTemp('slow.yaml', slowExperiment('slow'), dir);
    const db = join(dir, 'runs.sqlite');
    const sweep = startCli(['sweep', file, '--db', db, '--concurrency', '1']);
    await waitFor(() => statuses(db).some((r) => r.status === 'completed'), 'a first completed trial');
    const workers = workerPids(sweep.child.pid!);
    sweep.child.kill('SIGKILL');
    await sweep.done;
    // The orphaned worker notices its parent is gone and exits by itself.
    await waitFor(() => workers.every((pid) => !isAlive(pid)), 'orphaned workers to exit', 20_000);
    expect(statuses(db).some((r) => r.status === 'running')).toBe(true);

    resumeToTheEnd(file, db);
    const interrupted = statuses(db).filter((r) => r.status === 'interrupted');
    expect(interrupted.length).toBeGreaterThan(0);
    expect(interrupted.every((r) => r.error === 'the runner process died while this run was training')).toBe(true);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} stops running trials promptly, records them as interrupted, and a re-run resumes`, async () => {
      const dir = tempDir();
      const file = writeTemp('slow.yaml', slowExperiment('slow'), dir);
      const db = join(dir, 'runs.sqlite');
      const sweep = startCli(['sweep', file, '--db', db, '--concurrency', '2']);
      await waitFor(() => query(db, 'SELECT 1 FROM epochs').length > 0, 'a first finished epoch');
      const signalled = Date.now();
      sweep.child.kill(signal);
      const result = await sweep.done;
      expect(Date.now() - signalled).toBeLessThan(10_000);
      expect(result.status).toBe(130);
      expect(result.stderr).toContain('■ interrupted');
      expect(result.stderr).toContain('Run the same command again to resume');
      const after = statuses(db);
      expect(after.filter((r) => r.status === 'interrupted').map((r) => r.error)).toEqual(after.filter((r) => r.status === 'interrupted').map(() => 'stopped by the user'));
      expect(after.filter((r) => r.status === 'interrupted').length).toBeGreaterThan(0);
      expect(query<{ status: string }>(db, 'SELECT status FROM sweeps')[0]!.status).toBe('interrupted');
      expect(halfWritten(db, dir)).toEqual([]);

      resumeToTheEnd(file, db);
    });
  }

  it('Ctrl-C while a worker is still starting up records its run as stopped by the user', async () => {
    const dir = tempDir();
    const file = writeTemp('tiny.yaml', tinyExperiment('tiny'), dir);
    const db = join(dir, 'runs.sqlite');
    const sweep = startCli(['sweep', file, '--db', db]);
    // The worker exists but has not trained yet: it is loading tfjs, the backend or the data.
    await waitFor(() => workerPids(sweep.child.pid!).length > 0, 'a worker process', 30_000);
    expect(query(db, 'SELECT 1 FROM epochs')).toEqual([]);
    sweep.child.kill('SIGINT');
    const result = await sweep.done;
    expect(result.status).toBe(130);
    expect(statuses(db)).toEqual([expect.objectContaining({ status: 'interrupted', error: 'stopped by the user' })]);
    expect(halfWritten(db, dir)).toEqual([]);
    resumeToTheEnd(file, db, 1);
  });

  it('Ctrl-C before any trial starts (while the backend is chosen) stops the sweep as interrupted, with nothing run', async () => {
    const dir = tempDir();
    const file = writeTemp('tiny.yaml', tinyExperiment('tiny'), dir);
    const db = join(dir, 'runs.sqlite');
    const stop = new AbortController();
    const silent: SweepReporter = { planned: () => stop.abort(), trialStarted() {}, trialBatch() {}, trialEpoch() {}, trialFinished() {}, stopping() {} };
    const summary = await runSweep({ files: [file], overrides: [], backend: 'wasm', force: false, dbPath: db, runsDir: dir, command: 'test' }, silent, stop.signal);
    expect(summary).toMatchObject({ interrupted: true, notStarted: 1, counts: { completed: 0 } });
  });

  it('a worker killed from outside is recorded interrupted with the signal, the sweep goes on, and the next run trains it again', async () => {
    const dir = tempDir();
    const file = writeTemp('slow.yaml', slowExperiment('slow'), dir);
    const db = join(dir, 'runs.sqlite');
    const sweep = startCli(['sweep', file, '--db', db, '--concurrency', '1']);
    await waitFor(() => workerPids(sweep.child.pid!).length > 0 && query(db, 'SELECT 1 FROM epochs').length > 0, 'the first trial to train');
    for (const pid of workerPids(sweep.child.pid!)) process.kill(pid, 'SIGKILL');
    const result = await sweep.done;
    // Work was left undone: not a success, and the summary says how to finish it.
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/2 completed.*1 interrupted/);
    expect(result.stderr).toContain('Run the same command again to resume');
    const interrupted = statuses(db).filter((r) => r.status === 'interrupted');
    expect(interrupted).toHaveLength(1);
    expect(interrupted[0]!.error).toContain('killed by SIGKILL');
    expect(halfWritten(db, dir)).toEqual([]);

    resumeToTheEnd(file, db);
    expect(statuses(db).filter((r) => r.config_hash === interrupted[0]!.config_hash).map((r) => r.status)).toEqual(['interrupted', 'completed']);
  });

  it('a trial that throws is recorded failed with its message, the sweep goes on, and a re-run after the fix completes it', () => {
    const dir = tempDir();
    // A cut-short copy of the dataset passes every check before the sweep (the files are there) and makes
    // the trial process throw when it reads them, as a truncated download would.
    const cut = datasetCopy(tempDir('runner-data-'), { truncatedLabels: true });
    const good = datasetCopy(tempDir('runner-data-'));
    const withData = (name: string, path: string) => tinyExperiment(name, '', 'epochs: 1').replace('data: {', `data: { path: ${JSON.stringify(path)},`);
    const files = [writeTemp('broken.yaml', withData('broken', cut), dir), writeTemp('fine.yaml', withData('fine', good), dir)];
    const db = join(dir, 'runs.sqlite');
    const result = runCli(['sweep', ...files, '--db', db, '--concurrency', '1']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/1 completed.*1 failed/);
    expect(result.stderr).toContain('✗ failed broken');
    expect(statuses(db)).toEqual([
      expect.objectContaining({ status: 'failed', error: expect.stringMatching(`^${join(cut, 'train-labels-idx1-ubyte.gz')}: IDX header says 60000 values, file has 59000; replace the file`) }),
      expect.objectContaining({ status: 'completed', error: null }),
    ]);
    expect(halfWritten(db, dir)).toEqual([]);

    // A failed trial is not skipped: once the data is whole again, the same command trains it.
    rmSync(cut, { recursive: true });
    mkdirSync(cut);
    datasetCopy(cut);
    const again = runCli(['sweep', ...files, '--db', db, '--concurrency', '1']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain('1 completed, 1 skipped (already completed)');
    expect(statuses(db).map((r) => r.status)).toEqual(['failed', 'completed', 'completed']);
    expect(completedOnce(db)).toEqual({ completed: 2, distinct: 2 });
    expect(halfWritten(db, dir)).toEqual([]);
  });

  it('--force trains completed trials again as new runs and keeps the old ones', () => {
    const dir = tempDir();
    const file = writeTemp('tiny.yaml', tinyExperiment('tiny', 'sweep:\n  train.optimizer.learningRate: [0.01, 0.003]\n', 'epochs: 1'), dir);
    const db = join(dir, 'runs.sqlite');
    expect(runCli(['sweep', file, '--db', db]).status).toBe(0);
    const skipped = runCli(['sweep', file, '--db', db]);
    expect(skipped.stderr).toContain('2 already completed');
    expect(query(db, 'SELECT id FROM runs')).toHaveLength(2);

    const forced = runCli(['sweep', file, '--db', db, '--force']);
    expect(forced.status).toBe(0);
    expect(forced.stderr).toContain('sweep: 2 completed');
    const runs = query<{ config_hash: string; sweep_id: number; status: string }>(db, 'SELECT config_hash, sweep_id, status FROM runs ORDER BY started_at');
    expect(runs.map((r) => r.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect(runs.slice(2).map((r) => r.config_hash)).toEqual(runs.slice(0, 2).map((r) => r.config_hash));
    expect(new Set(runs.map((r) => r.sweep_id)).size).toBe(2);
    expect(halfWritten(db, dir)).toEqual([]);
  });

  it('two sweeps on one database at once both train trials and record each exactly once', async () => {
    const dir = tempDir();
    const file = writeTemp('slow.yaml', slowExperiment('slow').replace('epochs: 8', 'epochs: 2'), dir);
    const db = join(dir, 'runs.sqlite');
    const a = startCli(['sweep', file, '--db', db, '--concurrency', '1']);
    const b = startCli(['sweep', file, '--db', db, '--concurrency', '1']);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect([ra.status, rb.status]).toEqual([0, 0]);
    expect(completedOnce(db)).toEqual({ completed: 3, distinct: 3 });
    expect(statuses(db)).toHaveLength(3);
    // Each runner claimed and trained at least one trial: the work was split, not done by one while the other waited.
    const byRunner = query<{ pid: number }>(db, "SELECT DISTINCT pid FROM runs WHERE status = 'completed'").map((r) => r.pid);
    expect(byRunner.sort()).toEqual([a.child.pid!, b.child.pid!].sort());
    expect(halfWritten(db, dir)).toEqual([]);
  });
});

describe('what a trial process that ended without a result is recorded as', () => {
  const killed = (signal: NodeJS.Signals) => ({ kind: 'killed' as const, signal, message: `trial process killed by ${signal}` });

  it('killed from outside: interrupted, with the signal, so that the next sweep runs it again', () => {
    expect(runOutcome(killed('SIGKILL'), 'model', false)).toMatchObject({ status: 'interrupted', error: 'trial process killed by SIGKILL' });
  });

  it('killed while the sweep stops (even before it could install its own signal handlers): stopped by the user', () => {
    expect(runOutcome(killed('SIGTERM'), 'model', true)).toMatchObject({ status: 'interrupted', error: 'stopped by the user' });
  });

  it('crashed by a signal of its own (a native fault) or exited with an error: failed, since it would fail again', () => {
    expect(runOutcome(killed('SIGSEGV'), 'model', false)).toMatchObject({ status: 'failed', error: 'trial process killed by SIGSEGV' });
    expect(runOutcome({ kind: 'error', message: 'trial process exited with code 1' }, 'model', false)).toMatchObject({ status: 'failed' });
  });
});
