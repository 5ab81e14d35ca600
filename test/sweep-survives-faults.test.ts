import Database from 'better-sqlite3';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSweep, type SweepReporter } from '../src/sweep/run-sweep.js';
import { runOutcome } from '../src/sweep/trial-outcome.js';
import { runCli, tempDir, writeTemp } from './helpers/cli.js';
import { completedOnce, datasetCopy, halfWritten, isAlive, query, resumeToTheEnd, slowExperiment, startCli, statuses, tinyExperiment, truncateTrainLabels, waitFor, workerPids } from './helpers/sweeps.js';

/**
 * Trials for a signal or a kill after the first epoch: 1,500 images leave over a second of training to interrupt,
 * in half the time of the default 3,000 (the tests that race two runners or a timeout keep those).
 */
const INTERRUPTED_TRAIN_LIMIT = 1500;

describe('sweeps lose no finished work', () => {
  it('after kill -9 of the runner, and its rows marked with another host name, the next invocation reclaims them once their lease lapses, continues them, and finishes every trial exactly once', async () => {
    const dir = tempDir();
    const file = writeTemp('slow.yaml', slowExperiment('slow', INTERRUPTED_TRAIN_LIMIT), dir);
    const db = join(dir, 'runs.sqlite');
    const sweep = startCli(['sweep', file, '--db', db, '--concurrency', '1'], undefined, { RUNNER_LEASE_SECONDS: '2' });
    await waitFor(() => statuses(db).some((r) => r.status === 'completed'), 'a first completed trial');
    const workers = workerPids(sweep.child.pid!);
    sweep.child.kill('SIGKILL');
    await sweep.done;
    // The orphaned worker notices its parent is gone and exits by itself.
    await waitFor(() => workers.every((pid) => !isAlive(pid)), 'orphaned workers to exit', 20_000);
    expect(statuses(db).some((r) => r.status === 'running')).toBe(true);
    // As a restarted container or a renamed laptop would find them; the pid is a live process here, this test.
    const raw = new Database(db);
    raw.prepare(`UPDATE runs SET host = 'elsewhere', pid = ?`).run(process.pid);
    raw.close();
    await waitFor(() => query(db, `SELECT 1 FROM runs WHERE status = 'running' AND lease_expires_at > ?`, new Date().toISOString()).length === 0, 'the lease to lapse', 10_000);
    expect((await runCli(['list', '--db', db])).stdout).toMatch(/running \(stale: no heartbeat, lease expired [\d.]+s ago\)/);

    await resumeToTheEnd(file, db);
    // The reclaimed runs were continued, not begun again: each trial is one run.
    expect(query<{ attempts: number }>(db, 'SELECT attempts FROM runs').some((r) => r.attempts === 2)).toBe(true);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} stops running trials promptly, records them as interrupted, and a re-run resumes`, async () => {
      const dir = tempDir();
      const file = writeTemp('slow.yaml', slowExperiment('slow', INTERRUPTED_TRAIN_LIMIT), dir);
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
      const reason = signal === 'SIGINT' ? 'stopped by the user' : 'stopped by SIGTERM';
      expect(after.filter((r) => r.status === 'interrupted').map((r) => r.error)).toEqual(after.filter((r) => r.status === 'interrupted').map(() => reason));
      expect(after.filter((r) => r.status === 'interrupted').length).toBeGreaterThan(0);
      expect(query<{ status: string }>(db, 'SELECT status FROM sweeps')[0]!.status).toBe('interrupted');
      expect(halfWritten(db)).toEqual([]);

      await resumeToTheEnd(file, db);
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
    expect(halfWritten(db)).toEqual([]);
    await resumeToTheEnd(file, db, 1);
  });

  it('Ctrl-C before any trial starts (while the backend is chosen) stops the sweep as interrupted, with nothing run', async () => {
    const dir = tempDir();
    const file = writeTemp('tiny.yaml', tinyExperiment('tiny'), dir);
    const db = join(dir, 'runs.sqlite');
    const stop = new AbortController();
    const silent: SweepReporter = { planned: () => stop.abort(), trialStarted() {}, trialBatch() {}, trialEpoch() {}, trialFinished() {}, stopping() {} };
    const summary = await runSweep({ files: [file], overrides: [], backend: 'wasm', force: false, dbPath: db, command: 'test' }, silent, stop.signal);
    expect(summary).toMatchObject({ interrupted: true, notStarted: 1, counts: { completed: 0 } });
  });

  it('a worker killed from outside is recorded interrupted with the signal, the sweep goes on, and the next run continues it from its checkpoint', async () => {
    const dir = tempDir();
    const file = writeTemp('slow.yaml', slowExperiment('slow', INTERRUPTED_TRAIN_LIMIT), dir);
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
    expect(halfWritten(db)).toEqual([]);

    const done = interrupted[0]!.config_hash;
    const checkpointed = query<{ epochs_done: number }>(db, `SELECT epochs_done FROM runs WHERE config_hash = ?`, done)[0]!.epochs_done;
    await resumeToTheEnd(file, db);
    // One run, started twice: the second attempt began after the epochs the first finished.
    expect(query(db, `SELECT status, attempts FROM runs WHERE config_hash = ?`, done)).toEqual([{ status: 'completed', attempts: 2 }]);
    expect(query<{ n: number }>(db, `SELECT COUNT(*) AS n FROM epochs JOIN runs ON runs.id = run_id WHERE config_hash = ?`, done)[0]!.n).toBe(8);
    expect(checkpointed).toBeGreaterThan(0);
  });

  it('a trial that throws is recorded failed with its message, the sweep goes on, and a re-run after the fix completes it', async () => {
    const dir = tempDir();
    // The data passes the check before the sweep, then is cut short while the first trial trains, as a disk going
    // bad mid-sweep would: the second trial's process throws when it reads it.
    const good = datasetCopy(tempDir('runner-data-'));
    const cut = datasetCopy(tempDir('runner-data-'));
    const withData = (name: string, path: string) => tinyExperiment(name, '', 'epochs: 1').replace('data: {', `data: { path: ${JSON.stringify(path)},`);
    const files = [writeTemp('fine.yaml', withData('fine', good), dir), writeTemp('broken.yaml', withData('broken', cut), dir)];
    const db = join(dir, 'runs.sqlite');
    const sweep = startCli(['sweep', ...files, '--db', db, '--concurrency', '1']);
    await waitFor(() => query(db, `SELECT 1 FROM runs WHERE status = 'running'`).length > 0, 'the first trial to start');
    truncateTrainLabels(cut);
    const result = await sweep.done;
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/1 completed.*1 failed/);
    expect(result.stderr).toContain('✗ failed broken');
    expect(statuses(db)).toEqual([
      expect.objectContaining({ status: 'completed', error: null }),
      expect.objectContaining({ status: 'failed', error: expect.stringMatching(`^${join(cut, 'train-labels-idx1-ubyte.gz')}: IDX header says 60000 values, file has 59000; replace the file`) }),
    ]);
    expect(halfWritten(db)).toEqual([]);

    // A failed trial is not skipped: once the data is whole again, the same command trains it.
    rmSync(cut, { recursive: true });
    mkdirSync(cut);
    datasetCopy(cut);
    const again = await runCli(['sweep', ...files, '--db', db, '--concurrency', '1']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain('1 completed, 1 skipped (already completed)');
    expect(statuses(db).map((r) => r.status)).toEqual(['completed', 'failed', 'completed']);
    expect(completedOnce(db)).toEqual({ completed: 2, distinct: 2 });
    expect(halfWritten(db)).toEqual([]);
  });

  it('--force trains completed trials again as new runs and keeps the old ones', async () => {
    const dir = tempDir();
    const file = writeTemp('tiny.yaml', tinyExperiment('tiny', 'sweep:\n  train.optimizer.learningRate: [0.01, 0.003]\n', 'epochs: 1'), dir);
    const db = join(dir, 'runs.sqlite');
    expect((await runCli(['sweep', file, '--db', db])).status).toBe(0);
    const skipped = await runCli(['sweep', file, '--db', db]);
    expect(skipped.stderr).toContain('2 already completed');
    expect(query(db, 'SELECT id FROM runs')).toHaveLength(2);

    const forced = await runCli(['sweep', file, '--db', db, '--force']);
    expect(forced.status).toBe(0);
    expect(forced.stderr).toContain('sweep: 2 completed');
    const runs = query<{ config_hash: string; sweep_id: number; status: string }>(db, 'SELECT config_hash, sweep_id, status FROM runs ORDER BY started_at');
    expect(runs.map((r) => r.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect(runs.slice(2).map((r) => r.config_hash)).toEqual(runs.slice(0, 2).map((r) => r.config_hash));
    expect(new Set(runs.map((r) => r.sweep_id)).size).toBe(2);
    expect(halfWritten(db)).toEqual([]);
  });

  it('two sweeps on one database at once both train trials and record each exactly once', async () => {
    const dir = tempDir();
    const file = writeTemp('slow.yaml', slowExperiment('slow').replace('epochs: 8', 'epochs: 2'), dir);
    const db = join(dir, 'runs.sqlite');
    const a = startCli(['sweep', file, '--db', db, '--concurrency', '1']);
    const b = startCli(['sweep', file, '--db', db, '--concurrency', '1']);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect([ra.status, rb.status], ra.stderr + rb.stderr).toEqual([0, 0]);
    expect(completedOnce(db)).toEqual({ completed: 3, distinct: 3 });
    expect(statuses(db)).toHaveLength(3);
    // Each runner claimed and trained at least one trial: the work was split, not done by one while the other waited.
    const byRunner = query<{ pid: number }>(db, "SELECT DISTINCT pid FROM runs WHERE status = 'completed'").map((r) => r.pid);
    expect(byRunner.sort()).toEqual([a.child.pid!, b.child.pid!].sort());
    expect(halfWritten(db)).toEqual([]);
  });
});

describe('what a trial process that ended without a result is recorded as', () => {
  const killed = (signal: NodeJS.Signals) => ({ kind: 'killed' as const, signal, message: `trial process killed by ${signal}` });

  it('killed from outside: interrupted, with the signal, so that the next sweep runs it again', () => {
    expect(runOutcome(killed('SIGKILL'), 'model', undefined)).toMatchObject({ status: 'interrupted', error: 'trial process killed by SIGKILL' });
  });

  it('killed while the sweep stops (even before it could install its own signal handlers): with the reason the sweep stopped', () => {
    expect(runOutcome(killed('SIGTERM'), 'model', 'stopped by the user')).toMatchObject({ status: 'interrupted', error: 'stopped by the user' });
    expect(runOutcome(killed('SIGTERM'), 'model', 'stopped by SIGTERM')).toMatchObject({ status: 'interrupted', error: 'stopped by SIGTERM' });
  });

  it('hung and killed by the sweep: interrupted, saying for how long it made no progress', () => {
    expect(runOutcome({ kind: 'stalled', idleMs: 600_000 }, 'model', undefined)).toMatchObject({ status: 'interrupted', error: 'no progress for 10m: the worker was killed' });
    expect(runOutcome({ kind: 'stalled', idleMs: 90_000 }, 'model', undefined)).toMatchObject({ status: 'interrupted', error: 'no progress for 90s: the worker was killed' });
  });

  it('crashed by a signal of its own (a native fault) or exited with an error: failed, since it would fail again', () => {
    expect(runOutcome(killed('SIGSEGV'), 'model', undefined)).toMatchObject({ status: 'failed', error: 'trial process killed by SIGSEGV' });
    expect(runOutcome({ kind: 'error', message: 'trial process exited with code 1' }, 'model', undefined)).toMatchObject({ status: 'failed' });
  });
});
