import Database from 'better-sqlite3';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSweep, type SweepReporter } from '../src/sweep/run-sweep.js';
import { runOutcome } from '../src/sweep/trial-outcome.js';
import { CLI, ROOT, runCli, tempDir, writeTemp } from './helpers/cli.js';
import { runsDirFor } from '../src/store/run-folders.js';
import { datasetCopy, halfWritten, query, startCli, tinyExperiment, truncateTrainLabels, waitFor } from './helpers/sweeps.js';

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

/** The pid of a process that has exited: what another pid namespace's runner looks like from here. */
function exitedPid(): number {
  return spawnSync('true').pid!;
}

/** Another program holding the database's write lock (BEGIN IMMEDIATE) until it is killed. */
function holdWriteLock(db: string): { child: ChildProcess; locked: Promise<void> } {
  const script = `const db = new (require('better-sqlite3'))(process.argv[1]); db.exec('BEGIN IMMEDIATE'); console.log('locked'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script, db], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return { child, locked: new Promise((resolve) => child.stdout!.once('data', () => resolve())) };
}

/** Runs the same sweep again to the end: every trial ends completed exactly once, and nothing is half-written. */
function resumeToTheEnd(file: string, db: string, trials = 3): void {
  const resumed = runCli(['sweep', file, '--db', db]);
  expect(resumed.status, resumed.stderr).toBe(0);
  expect(completedOnce(db)).toEqual({ completed: trials, distinct: trials });
  expect(halfWritten(db)).toEqual([]);
}

describe('sweeps lose no finished work', () => {
  it('after kill -9 of the runner, and its rows marked with another host name, the next invocation reclaims them once their lease lapses and finishes every trial exactly once', async () => {
    const dir = tempDir();
    const file = writeTemp('slow.yaml', slowExperiment('slow'), dir);
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
    expect(runCli(['list', '--db', db]).stdout).toMatch(/running \(stale: no heartbeat, lease expired [\d.]+s ago\)/);

    resumeToTheEnd(file, db);
    const interrupted = statuses(db).filter((r) => r.status === 'interrupted');
    expect(interrupted.length).toBeGreaterThan(0);
    expect(interrupted.every((r) => r.error?.startsWith('its lease expired: the runner training it (elsewhere, pid '))).toBe(true);
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
      const reason = signal === 'SIGINT' ? 'stopped by the user' : 'stopped by SIGTERM';
      expect(after.filter((r) => r.status === 'interrupted').map((r) => r.error)).toEqual(after.filter((r) => r.status === 'interrupted').map(() => reason));
      expect(after.filter((r) => r.status === 'interrupted').length).toBeGreaterThan(0);
      expect(query<{ status: string }>(db, 'SELECT status FROM sweeps')[0]!.status).toBe('interrupted');
      expect(halfWritten(db)).toEqual([]);

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
    expect(halfWritten(db)).toEqual([]);
    resumeToTheEnd(file, db, 1);
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
    expect(halfWritten(db)).toEqual([]);

    resumeToTheEnd(file, db);
    expect(statuses(db).filter((r) => r.config_hash === interrupted[0]!.config_hash).map((r) => r.status)).toEqual(['interrupted', 'completed']);
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
    const again = runCli(['sweep', ...files, '--db', db, '--concurrency', '1']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain('1 completed, 1 skipped (already completed)');
    expect(statuses(db).map((r) => r.status)).toEqual(['completed', 'failed', 'completed']);
    expect(completedOnce(db)).toEqual({ completed: 2, distinct: 2 });
    expect(halfWritten(db)).toEqual([]);
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
    expect(halfWritten(db)).toEqual([]);
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
    expect(halfWritten(db)).toEqual([]);
  });
});

describe('runners that share a database, hung workers and a failing database', () => {
  it('two runners on one host name whose pids look dead to each other (separate pid namespaces) split the work: a live lease is never taken', async () => {
    const dir = tempDir();
    const file = writeTemp('slow.yaml', slowExperiment('slow').replace('epochs: 8', 'epochs: 3'), dir);
    const db = join(dir, 'runs.sqlite');
    const a = startCli(['sweep', file, '--db', db, '--concurrency', '1']);
    await waitFor(() => workerPids(a.child.pid!).length > 0 && statuses(db).some((r) => r.status === 'running'), "runner A's first trial");
    // Holds A's trial where it is while B plans and claims; A's runner process goes on renewing its lease.
    const [worker] = workerPids(a.child.pid!);
    process.kill(worker!, 'SIGSTOP');
    const raw = new Database(db);
    raw.prepare(`UPDATE runs SET pid = ? WHERE status = 'running'`).run(exitedPid());
    raw.close();
    const b = startCli(['sweep', file, '--db', db, '--concurrency', '1']);
    await waitFor(() => query(db, 'SELECT 1 FROM runs WHERE pid = ?', b.child.pid).length > 0, 'runner B to claim a trial');
    process.kill(worker!, 'SIGCONT');
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(completedOnce(db)).toEqual({ completed: 3, distinct: 3 });
    expect([ra.status, rb.status], ra.stderr + rb.stderr).toEqual([0, 0]);
    expect(rb.stderr).toContain('2 trials to run, 1 running elsewhere (another runner holds it; skipped)');
    expect(statuses(db)).toHaveLength(3);
    expect(halfWritten(db)).toEqual([]);
  });

  it('a hung worker (SIGSTOP) is killed after --stall-timeout without progress and recorded interrupted, and the sweep goes on', async () => {
    const dir = tempDir();
    const file = writeTemp('slow.yaml', slowExperiment('slow').replace(SLOW_GRID, 'sweep:\n  train.optimizer.learningRate: [0.01, 0.003]\n').replace('epochs: 8', 'epochs: 3'), dir);
    // Not named runs.sqlite, nor in a folder named runs: its run folders go to runs/ beside it, not among its neighbours.
    const db = join(dir, 'x.sqlite');
    const sweep = startCli(['sweep', file, '--db', db, '--concurrency', '1', '--stall-timeout', '8s']);
    await waitFor(() => query(db, 'SELECT 1 FROM epochs').length > 0, 'a first finished epoch');
    const [worker] = workerPids(sweep.child.pid!);
    process.kill(worker!, 'SIGSTOP');
    const result = await sweep.done;
    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toContain('sweep: 1 completed, 1 interrupted');
    expect(isAlive(worker!)).toBe(false);
    expect(statuses(db).map((r) => [r.status, r.error])).toEqual([
      ['interrupted', 'no progress for 8s: the worker was killed'],
      ['completed', null],
    ]);
    expect(halfWritten(db)).toEqual([]);
    const [completed] = query<{ id: string; model_dir: string }>(db, `SELECT id, model_dir FROM runs WHERE status = 'completed'`);
    expect(completed!.model_dir).toBe(join(dir, 'runs', completed!.id, 'model'));
    expect(readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)).toEqual(['runs']);

    resumeToTheEnd(file, db, 2);
  });

  it('a database another program keeps locked past the busy timeout stops the sweep cleanly: its trial interrupted, exit 1, how to resume, no stack trace', async () => {
    const dir = tempDir();
    // Long enough to be still training when the lock is noticed: the sweep stops it long before its end.
    const file = writeTemp('slow.yaml', slowExperiment('slow').replace('epochs: 8', 'epochs: 60'), dir);
    const db = join(dir, 'runs.sqlite');
    const sweep = startCli(['sweep', file, '--db', db, '--concurrency', '1']);
    await waitFor(() => query(db, 'SELECT 1 FROM epochs').length > 0, 'a first finished epoch');
    const workers = workerPids(sweep.child.pid!);
    const locker = holdWriteLock(db);
    await locker.locked;
    await waitFor(() => workers.every((pid) => !isAlive(pid)), 'the sweep to stop its trial', 60_000);
    // Released once the trial is stopped, so that the sweep can record it interrupted: the database accepts it again.
    locker.child.kill();
    const result = await sweep.done;
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('error: the run database failed mid-sweep: database is locked (SQLITE_BUSY): another program held a write lock on the database');
    expect(result.stderr).toContain('sweep: 0 completed, 1 interrupted, 2 not started');
    expect(result.stderr).toContain('then run the same command again to resume');
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(statuses(db)).toEqual([expect.objectContaining({ status: 'interrupted', error: expect.stringMatching(/^the run database failed: database is locked \(SQLITE_BUSY\)/) })]);
    expect(query<{ status: string }>(db, 'SELECT status FROM sweeps')).toEqual([{ status: 'failed' }]);
    expect(halfWritten(db)).toEqual([]);
  });
  it('a database whose disk fills up mid-sweep stops it cleanly: no folder left, exit 1, how to resume, and the row it could not record is reclaimed once its lease lapses', async () => {
    const dir = tempDir();
    const file = writeTemp('slow.yaml', slowExperiment('slow').replace(SLOW_GRID, '').replace('epochs: 8', 'epochs: 12'), dir);
    const db = join(dir, 'runs.sqlite');
    // A file size limit is a full disk to SQLite, for this runner only; its lease renewals grow the WAL past it.
    const limited = spawnSync('bash', ['-c', `ulimit -f 120 && exec "$0" "$@"`, process.execPath, CLI, 'sweep', file, '--db', db], {
      encoding: 'utf8',
      env: { ...process.env, FORCE_COLOR: '0', RUNNER_LEASE_SECONDS: '1.2' },
    });
    expect(limited.status, limited.stderr).toBe(1);
    expect(limited.stderr).toMatch(/error: the run database failed mid-sweep: .*\(SQLITE_(FULL|IOERR_WRITE)\): the disk/);
    expect(limited.stderr).toContain('then run the same command again to resume');
    expect(limited.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(runsDirFor(db)) ? readdirSync(runsDirFor(db)) : []).toEqual([]);

    await waitFor(() => query(db, `SELECT 1 FROM runs WHERE status = 'running' AND lease_expires_at > ?`, new Date().toISOString()).length === 0, 'the lease to lapse', 10_000);
    resumeToTheEnd(file, db, 1);
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
