import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { checkout, type RunningWorker, startRedis, workerPool } from './helpers/redis.js';
import { completedOnce, halfWritten, query, startCli, statuses, tinyExperiment, waitFor } from './helpers/sweeps.js';

/** Eight tiny trials (a 4 × 2 grid, one epoch on 300 images): a few seconds each, mostly process start-up. */
const grid = (seed: number) =>
  tinyExperiment('grid', 'sweep:\n  train.optimizer.learningRate: [0.01, 0.003, 0.001, 0.0003]\n  train.batchSize: [50, 100]\n', 'epochs: 1', 'trainLimit: 300, testLimit: 300').replace('seed: 3', `seed: ${seed}`);

const workers = workerPool();
const start = (url: string, cwd: string) => workers.start(url, cwd);
/** Trials trained to the end, over every worker: each trial once means nothing was trained twice. */
const finishedLines = () => workers.all().flatMap((w) => w.output().split('\n')).filter((line) => / finished /.test(line));

describe('a sweep through a queue', () => {
  it('spreads trials over three workers, survives kill -9 of one mid-trial, records every trial once, and reads like a local sweep', async () => {
    const redis = await startRedis();
    const repo = checkout({ 'grid.yaml': grid(3) });
    const db = join(repo.dir, 'runs', 'runs.sqlite');
    const pool = [start(redis.url, repo.dir), start(redis.url, repo.dir), start(redis.url, repo.dir)];
    const sweep = startCli(['sweep', 'grid.yaml', '--db', db, '--queue', redis.url], repo.dir);

    // Killed as soon as it has taken a trial: the trial dies with it, unfinished.
    let victim: RunningWorker | undefined;
    await waitFor(() => (victim = pool.find((w) => w.output().includes(' pulled '))) !== undefined, 'a worker to pull a trial', 60_000);
    victim!.child.kill('SIGKILL');
    const lost = /pulled (\S+)/.exec(victim!.output())![1]!;

    const result = await sweep.done;
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain('sweep: 8 completed');
    expect(statuses(db)).toHaveLength(8);
    expect(completedOnce(db)).toEqual({ completed: 8, distinct: 8 });
    expect(halfWritten(db)).toEqual([]);
    // The lost trial is one run, naming both attempts; the others took one attempt.
    const notes = query<{ config_hash: string; note: string | null }>(db, 'SELECT config_hash, note FROM runs');
    const noted = notes.filter((r) => r.note !== null);
    expect(noted).toEqual([{ config_hash: lost.slice(0, 16), note: expect.stringMatching(/^attempt 1 on \S+ lost \(worker stopped responding\), attempt 2 on \S+$/) }]);
    // Each of the other two workers trained some: the work was spread.
    const byWorker = pool.filter((w) => w !== victim).map((w) => (w.output().match(/ finished /g) ?? []).length);
    expect(byWorker.every((n) => n > 0), String(byWorker)).toBe(true);

    // The runs read like a local sweep's.
    const report = await runCli(['report', '--db', db, '--json'], { cwd: repo.dir });
    expect(report.status, report.stderr).toBe(0);
    expect((JSON.parse(report.stdout) as { entries: unknown[] }).entries).toHaveLength(8);
    const [first] = query<{ id: string }>(db, 'SELECT id FROM runs');
    const show = await runCli(['show', first!.id, '--db', db], { cwd: repo.dir });
    expect(show.status, show.stderr).toBe(0);
    expect(show.stdout).toContain('confusion');
    // One of the configs trained here, locally, on a branch: diff pairs it with the queue's run, and finds the same result.
    execFileSync('git', ['checkout', '--quiet', '-b', 'local'], { cwd: repo.dir });
    const local = await runCli(['sweep', 'grid.yaml', '--db', db, '--sweep', 'train.optimizer.learningRate=0.01', '--sweep', 'train.batchSize=50'], { cwd: repo.dir });
    expect(local.status, local.stderr).toBe(0);
    const diff = await runCli(['diff', 'main', 'local', '--db', db, '--json'], { cwd: repo.dir });
    expect(diff.status, diff.stderr).toBe(0);
    expect(JSON.parse(diff.stdout)).toMatchObject({ compared: 1, pairs: [{ delta: 0 }] });
  });

  it('after kill -9 of the coordinator, the same command re-attaches to the queued and finished jobs: every trial trained and recorded once', async () => {
    const redis = await startRedis();
    const repo = checkout({ 'grid.yaml': grid(4) });
    const db = join(repo.dir, 'runs', 'runs.sqlite');
    start(redis.url, repo.dir);
    start(redis.url, repo.dir);
    const args = ['sweep', 'grid.yaml', '--db', db, '--queue', redis.url];
    const env = { RUNNER_LEASE_SECONDS: '2' };
    const first = startCli(args, repo.dir, env);
    await waitFor(() => statuses(db).filter((r) => r.status === 'completed').length >= 2, 'two recorded trials', 60_000);
    first.child.kill('SIGKILL');
    await first.done;
    // Its leases lapse before the same command runs again; live ones would mean another runner holds the trials.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const recordedBefore = statuses(db).filter((r) => r.status === 'completed').length;
    expect(recordedBefore).toBeLessThan(8);

    const again = await runCli(args, { cwd: repo.dir, env });
    expect(again.status, again.stderr).toBe(0);
    expect(statuses(db)).toHaveLength(8);
    expect(completedOnce(db)).toEqual({ completed: 8, distinct: 8 });
    expect(halfWritten(db)).toEqual([]);
    // Nothing trained twice: the results workers finished while no coordinator listened were taken from the queue.
    expect(finishedLines()).toHaveLength(8);
  });
});
