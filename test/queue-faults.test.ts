import { Queue } from 'bullmq';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { checkout, startRedis, startWorker, type RunningWorker } from './helpers/redis.js';
import { QUEUE_NAME } from '../src/sweep/queue/address.js';
import { completedOnce, halfWritten, query, startCli, statuses, tinyExperiment, waitFor } from './helpers/sweeps.js';

/** `count` tiny trials (one epoch on 300 images), seeded apart from every other test's so that no job id is shared. */
const experiment = (seed: number, rates: number[]) =>
  tinyExperiment('faults', `sweep:\n  train.optimizer.learningRate: [${rates.join(', ')}]\n`, 'epochs: 1', 'trainLimit: 300, testLimit: 300').replace('seed: 3', `seed: ${seed}`);

const workers: RunningWorker[] = [];
afterEach(async () => {
  const running = workers.splice(0).filter((w) => w.child.exitCode === null && w.child.signalCode === null);
  running.forEach((w) => w.child.kill('SIGINT'));
  await Promise.all(running.map((w) => w.done));
});
const start = (url: string, cwd: string) => {
  const worker = startWorker(url, cwd);
  workers.push(worker);
  return worker;
};
const pulled = (worker: RunningWorker) => () => worker.output().includes(' pulled ');

describe('a queued sweep under faults', () => {
  it('a worker on another commit refuses the job, naming both commits and what to do, and leaves it to a worker on that commit', async () => {
    const redis = await startRedis();
    const files = { 'one.yaml': experiment(11, [0.01]) };
    const repo = checkout(files);
    const elsewhere = checkout(files, 'the same experiment, another commit');
    const db = join(repo.dir, 'runs', 'runs.sqlite');
    const stranger = start(redis.url, elsewhere.dir);
    const sweep = startCli(['sweep', 'one.yaml', '--db', db, '--queue', redis.url], repo.dir);
    await waitFor(() => stranger.output().includes('refused'), 'the worker on another commit to refuse the job', 60_000);
    const refusal = stranger.output().split('\n').find((line) => line.includes('refused'))!;
    expect(refusal).toContain(`enqueued at commit ${repo.commit}`);
    expect(refusal).toContain(`this worker runs ${elsewhere.commit}`);
    expect(refusal).toContain(`check out ${repo.commit} here`);
    const status = await runCli(['queue', 'status', '--queue', redis.url]);
    expect(status.stdout).toMatch(/0 running, 1 waiting, 0 completed, 0 failed/);
    expect(status.stdout).toContain(`for a worker on commit ${repo.commit.slice(0, 12)}`);

    start(redis.url, repo.dir);
    const result = await sweep.done;
    expect(result.status, result.stderr).toBe(0);
    expect(completedOnce(db)).toEqual({ completed: 1, distinct: 1 });
    expect(stranger.output()).not.toContain(' pulled ');

    // Whoever can write to the queue can make a worker train only a valid trial whose config matches its hash.
    const [recorded] = query<{ config_json: string; config_hash: string }>(db, 'SELECT config_json, config_hash FROM runs');
    const config = JSON.parse(recorded!.config_json) as { train: { epochs: number } };
    const forged = { experiment: 'forged', hash: recorded!.config_hash, params: {}, repeatIndex: 0, runId: 'forged', commit: repo.commit };
    const queue = new Queue(QUEUE_NAME, { connection: { url: redis.url } });
    try {
      await queue.add('trial', { ...forged, config: { ...config, model: { layers: 'rm -rf /' } } }, { jobId: 'not-a-model' });
      await queue.add('trial', { ...forged, config: { ...config, train: { ...config.train, epochs: 1000 } } }, { jobId: 'not-its-hash' });
      const failure = async (id: string) => {
        for (;;) {
          const job = await queue.getJob(id);
          if (job && (await job.getState()) === 'failed') return job.failedReason;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      };
      expect(await failure('not-a-model')).toMatch(/^refused: the job is not a trial this runner would enqueue \(its config fails the experiment schema: \/model\/layers must be array/);
      expect(await failure('not-its-hash')).toMatch(/^refused: .*\(its config hashes to [0-9a-f]{16}, not to the job's [0-9a-f]{16}\)$/);
    } finally {
      await queue.close();
    }
  });

  it('a trial whose worker dies twice ends failed, naming both attempts, instead of killing worker after worker', async () => {
    const redis = await startRedis();
    const repo = checkout({ 'one.yaml': experiment(12, [0.01]) });
    const db = join(repo.dir, 'runs', 'runs.sqlite');
    const first = start(redis.url, repo.dir);
    const sweep = startCli(['sweep', 'one.yaml', '--db', db, '--queue', redis.url], repo.dir);
    await waitFor(pulled(first), 'the first worker to take the trial', 60_000);
    first.child.kill('SIGKILL');
    const second = start(redis.url, repo.dir);
    await waitFor(pulled(second), 'the second worker to take it after the first stopped responding', 60_000);
    second.child.kill('SIGKILL');
    // A live worker's stalled-job check finds the second loss and gives the job up.
    start(redis.url, repo.dir);
    const result = await sweep.done;
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/0 completed.*1 failed/);
    const [run] = statuses(db);
    expect(run).toMatchObject({ status: 'failed', error: expect.stringMatching(/^its worker stopped responding on every attempt \(attempt 1 on \S+ lost \(worker stopped responding\), attempt 2 on \S+ lost \(worker stopped responding\)\)/) });
    expect(halfWritten(db)).toEqual([]);
  });

  it('Ctrl-C on a worker hands its running trial back to the queue, and another worker trains it, the run naming both attempts', async () => {
    const redis = await startRedis();
    const repo = checkout({ 'one.yaml': experiment(15, [0.01]) });
    const db = join(repo.dir, 'runs', 'runs.sqlite');
    const leaving = start(redis.url, repo.dir);
    const sweep = startCli(['sweep', 'one.yaml', '--db', db, '--queue', redis.url], repo.dir);
    await waitFor(pulled(leaving), 'the worker to take the trial', 60_000);
    leaving.child.kill('SIGINT');
    const left = await leaving.done;
    expect(left.status).toBe(130);
    expect(left.stdout).toMatch(/stopping: taking no more jobs; 1 running trial stops at the end of a batch and goes back to the queue\n.*handed back /);
    expect(left.stdout).toContain('worker stopped: 0 trained, 0 failed, 1 handed back to the queue');

    start(redis.url, repo.dir);
    const result = await sweep.done;
    expect(result.status, result.stderr).toBe(0);
    expect(query(db, 'SELECT status, note FROM runs')).toEqual([
      { status: 'completed', note: expect.stringMatching(/^attempt 1 on \S+ handed back \(its worker was shut down\), attempt 2 on \S+$/) },
    ]);
    expect(halfWritten(db)).toEqual([]);
  });

  it('Ctrl-C on the coordinator records its running trials interrupted and withdraws waiting jobs; the same command then finishes them once', async () => {
    const redis = await startRedis();
    const repo = checkout({ 'four.yaml': experiment(13, [0.01, 0.003, 0.001, 0.0003]) });
    const db = join(repo.dir, 'runs', 'runs.sqlite');
    start(redis.url, repo.dir);
    const args = ['sweep', 'four.yaml', '--db', db, '--queue', redis.url];
    const sweep = startCli(args, repo.dir);
    await waitFor(() => statuses(db).some((r) => r.status === 'completed'), 'a first recorded trial', 60_000);
    sweep.child.kill('SIGINT');
    const stopped = await sweep.done;
    expect(stopped.status).toBe(130);
    expect(stopped.stderr).toContain('Run the same command again to resume');
    const interrupted = statuses(db).filter((r) => r.status === 'interrupted');
    expect(interrupted.length).toBeGreaterThan(0);
    expect(new Set(interrupted.map((r) => r.error))).toEqual(new Set(['stopped by the user']));
    expect(halfWritten(db)).toEqual([]);
    // What no worker had started is out of the queue; the trial a worker was training may still finish there.
    expect((await runCli(['queue', 'status', '--queue', redis.url])).stdout).toMatch(/, 0 waiting,/);

    const again = await runCli(args, { cwd: repo.dir });
    expect(again.status, again.stderr).toBe(0);
    expect(statuses(db)).toHaveLength(4);
    expect(completedOnce(db)).toEqual({ completed: 4, distinct: 4 });
    expect(halfWritten(db)).toEqual([]);
  });

  it('Redis restarted mid-sweep (append-only file on): workers and coordinator reconnect and the sweep finishes, every trial once', async () => {
    const redis = await startRedis({ appendOnly: true });
    const repo = checkout({ 'four.yaml': experiment(14, [0.01, 0.003, 0.001, 0.0003]) });
    const db = join(repo.dir, 'runs', 'runs.sqlite');
    start(redis.url, repo.dir);
    start(redis.url, repo.dir);
    const sweep = startCli(['sweep', 'four.yaml', '--db', db, '--queue', redis.url], repo.dir);
    await waitFor(() => statuses(db).some((r) => r.status === 'completed'), 'a first recorded trial', 60_000);
    await redis.restart();
    const result = await sweep.done;
    expect(result.status, result.stderr).toBe(0);
    expect(statuses(db)).toHaveLength(4);
    expect(completedOnce(db)).toEqual({ completed: 4, distinct: 4 });
    expect(halfWritten(db)).toEqual([]);
  });
});
