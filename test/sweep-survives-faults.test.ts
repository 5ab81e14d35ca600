import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir, writeTemp } from './helpers/cli.js';
import { query, startCli, tinyExperiment, waitFor } from './helpers/sweeps.js';

/** Three trials long enough (several seconds each) to be caught mid-flight. */
const SLOW_GRID = 'sweep:\n  train.optimizer.learningRate: [0.01, 0.003, 0.001]\n';
const slowExperiment = (name: string) => tinyExperiment(name, SLOW_GRID, 'epochs: 8').replace('trainLimit: 600', 'trainLimit: 3000');

const statuses = (db: string) => query<{ config_hash: string; status: string }>(db, 'SELECT config_hash, status FROM runs');
const completedOnce = (db: string) => {
  const completed = statuses(db).filter((r) => r.status === 'completed').map((r) => r.config_hash);
  return { completed: completed.length, distinct: new Set(completed).size };
};

function workerPids(parent: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(parent)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
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

    const resumed = runCli(['sweep', file, '--db', db, '--concurrency', '1']);
    expect(resumed.status).toBe(0);
    expect(statuses(db).some((r) => r.status === 'running')).toBe(false);
    expect(statuses(db).some((r) => r.status === 'interrupted')).toBe(true);
    expect(completedOnce(db)).toEqual({ completed: 3, distinct: 3 });
  });

  it('Ctrl-C stops running trials promptly, records them as interrupted, and a re-run resumes', async () => {
    const dir = tempDir();
    const file = writeTemp('slow.yaml', slowExperiment('slow'), dir);
    const db = join(dir, 'runs.sqlite');
    const sweep = startCli(['sweep', file, '--db', db, '--concurrency', '2']);
    await waitFor(() => query(db, 'SELECT 1 FROM epochs').length > 0, 'a first finished epoch');
    const signalled = Date.now();
    sweep.child.kill('SIGINT');
    const result = await sweep.done;
    expect(Date.now() - signalled).toBeLessThan(10_000);
    expect(result.status).toBe(130);
    expect(result.stderr).toContain('interrupted');
    expect(result.stderr).toContain('Run the same command again to resume');
    const after = statuses(db);
    expect(after.some((r) => r.status === 'running')).toBe(false);
    expect(after.filter((r) => r.status === 'interrupted').length).toBeGreaterThan(0);
    expect(query<{ status: string }>(db, 'SELECT status FROM sweeps')[0]!.status).toBe('interrupted');

    expect(runCli(['sweep', file, '--db', db]).status).toBe(0);
    expect(completedOnce(db)).toEqual({ completed: 3, distinct: 3 });
  });

  it('a trial whose process dies is recorded as failed with the reason, and the sweep goes on', async () => {
    const dir = tempDir();
    const file = writeTemp('slow.yaml', slowExperiment('slow'), dir);
    const db = join(dir, 'runs.sqlite');
    const sweep = startCli(['sweep', file, '--db', db, '--concurrency', '1']);
    await waitFor(() => workerPids(sweep.child.pid!).length > 0 && query(db, 'SELECT 1 FROM epochs').length > 0, 'the first trial to train');
    for (const pid of workerPids(sweep.child.pid!)) process.kill(pid, 'SIGKILL');
    const result = await sweep.done;
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/2 completed.*1 failed/);
    const failed = query<{ error: string }>(db, "SELECT error FROM runs WHERE status = 'failed'");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.error).toContain('killed by SIGKILL');
  });

  it('two sweeps on one database at once split the trials and record each exactly once', async () => {
    const dir = tempDir();
    const file = writeTemp('slow.yaml', slowExperiment('slow').replace('epochs: 8', 'epochs: 2'), dir);
    const db = join(dir, 'runs.sqlite');
    const a = startCli(['sweep', file, '--db', db, '--concurrency', '1']);
    const b = startCli(['sweep', file, '--db', db, '--concurrency', '1']);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect([ra.status, rb.status]).toEqual([0, 0]);
    expect(completedOnce(db)).toEqual({ completed: 3, distinct: 3 });
    expect(statuses(db)).toHaveLength(3);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
