import Database from 'better-sqlite3';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runsDirFor } from '../src/store/run-folders.js';
import { CLI, ROOT, tempDir, writeTemp } from './helpers/cli.js';
import { completedOnce, halfWritten, isAlive, query, resumeToTheEnd, SLOW_GRID, slowExperiment, startCli, statuses, waitFor, workerPids } from './helpers/sweeps.js';

// The second half of test/sweep-survives-faults.test.ts, in a file of its own so that vitest runs the two side by side.

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

    await resumeToTheEnd(file, db, 2);
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
    await resumeToTheEnd(file, db, 1);
  });
});
