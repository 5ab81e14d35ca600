import { Queue, Worker } from 'bullmq';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { cacheOf, checkout, type RunningWorker, startRedis, workerPool } from './helpers/redis.js';
import { QUEUE_NAME } from '../src/sweep/queue/connection.js';
import { completedOnce, halfWritten, query, startCli, statuses, tinyExperiment, waitFor } from './helpers/sweeps.js';

/** `count` tiny trials (one epoch on 300 images), seeded apart from every other test's so that no job id is shared. */
const experiment = (seed: number, rates: number[]) =>
  tinyExperiment('faults', `sweep:\n  train.optimizer.learningRate: [${rates.join(', ')}]\n`, 'epochs: 1', 'trainLimit: 300, testLimit: 300').replace('seed: 3', `seed: ${seed}`);

const workers = workerPool();
const start = (url: string, cwd: string) => workers.start(url, cwd);
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
    const forged = { experiment: 'faults', hash: recorded!.config_hash, params: {}, repeatIndex: 0, runId: '0123abcd-89abcdef', commit: repo.commit };
    const queue = new Queue(QUEUE_NAME, { connection: { url: redis.url } });
    try {
      await queue.add('trial', { ...forged, config: { ...config, model: { layers: 'rm -rf /' } } }, { jobId: 'not-a-model' });
      await queue.add('trial', { ...forged, config: { ...config, train: { ...config.train, epochs: 1000 } } }, { jobId: 'not-its-hash' });
      await queue.add('trial', { ...forged, experiment: 'other', config }, { jobId: 'not-its-experiment' });
      const failure = async (id: string) => {
        for (;;) {
          const job = await queue.getJob(id);
          // Read again once failed: the job read before may be from just before it failed, without its reason.
          if (job && (await job.getState()) === 'failed') return (await queue.getJob(id))?.failedReason;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      };
      expect(await failure('not-a-model')).toMatch(/^refused: the job is not a trial this runner would enqueue \(its config fails the experiment schema: \/model\/layers must be array/);
      expect(await failure('not-its-hash')).toMatch(/^refused: .*\(its config hashes to [0-9a-f]{16}, not to the job's [0-9a-f]{16}\)$/);
      expect(await failure('not-its-experiment')).toMatch(/^refused: .*\(its experiment "other" is not its config's name\)$/);
    } finally {
      await queue.close();
    }
  });

  it('a forged result is recorded failed, naming its worker, and malformed progress before it is ignored', async () => {
    const redis = await startRedis();
    const repo = checkout({ 'one.yaml': experiment(17, [0.01]) });
    const db = join(repo.dir, 'runs', 'runs.sqlite');
    const sweep = startCli(['sweep', 'one.yaml', '--db', db, '--queue', redis.url], repo.dir);
    // Not a runner worker: whoever can write to the queue, sending what it likes.
    const forger = new Worker(
      QUEUE_NAME,
      async (job) => {
        await job.updateProgress({ type: 'epoch', record: 'not a record' });
        await job.updateProgress({ type: 'ready', backend: null, restored: 7 });
        const model = { 'model.json': 'e30=', '../../escaped': 'eA==' };
        return JSON.stringify({ result: { outcome: 'completed', epochs: [] }, backend: { name: 'wasm', gpu: false, tfjsVersion: '4' }, worker: 'forger\u001b[2J:1', model });
      },
      { connection: { url: redis.url, maxRetriesPerRequest: null } },
    );
    try {
      const result = await sweep.done;
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('ignored malformed progress');
      const [run] = statuses(db);
      expect(run).toMatchObject({ status: 'failed', error: expect.stringMatching(/^the result from forger\[2J:1 is malformed \(/) });
      expect(existsSync(join(repo.dir, 'runs', 'escaped'))).toBe(false);
    } finally {
      await forger.close();
    }
  });

  it("a worker checks each model against its own --max-memory and refuses one that does not fit, naming the problem", async () => {
    const redis = await startRedis();
    const repo = checkout({ 'one.yaml': experiment(18, [0.01]) });
    const db = join(repo.dir, 'runs', 'runs.sqlite');
    workers.start(redis.url, repo.dir, {}, ['--max-memory', '1KB']);
    const result = await runCli(['sweep', 'one.yaml', '--db', db, '--queue', redis.url], { cwd: repo.dir });
    expect(result.status).toBe(1);
    const [run] = statuses(db);
    expect(run).toMatchObject({ status: 'failed', error: expect.stringMatching(/^refused: \S+ will not train it: .*memory/) });
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

  it('a worker frozen past its lock stops training the trial once it wakes, and leaves it to the worker that took it over', async () => {
    const redis = await startRedis();
    // Long enough (8 epochs on 6,000 images) to be still training when the frozen worker wakes.
    const repo = checkout({ 'one.yaml': tinyExperiment('frozen', '', 'epochs: 8', 'trainLimit: 6000, testLimit: 300').replace('seed: 3', 'seed: 16') });
    const db = join(repo.dir, 'runs', 'runs.sqlite');
    const frozen = start(redis.url, repo.dir);
    const sweep = startCli(['sweep', 'one.yaml', '--db', db, '--queue', redis.url], repo.dir);
    await waitFor(pulled(frozen), 'the worker to take the trial', 60_000);
    frozen.child.kill('SIGSTOP');
    const taker = start(redis.url, repo.dir);
    await waitFor(pulled(taker), 'another worker to take the trial once the frozen one lost its lock', 60_000);
    // The trial's checkpoints live in this user's own folder, named by its run and commit, which the taker goes on from.
    const folders = join(cacheOf(repo.dir), 'runner', 'worker');
    // The taker makes it as its trial process starts, a moment after it pulled the job.
    await waitFor(() => existsSync(folders) && readdirSync(folders).length > 0, "the trial's folder", 30_000);
    expect(statSync(folders).mode & 0o777).toBe(0o700);
    expect(readdirSync(folders)).toEqual([expect.stringMatching(new RegExp(`^[0-9a-f]{8}-[0-9a-f]{4,8}-${repo.commit}$`))]);
    frozen.child.kill('SIGCONT');
    await waitFor(() => frozen.output().includes(' lost '), 'the woken worker to notice that it lost the job', 30_000);
    expect(frozen.output()).toMatch(/lost \S+ .*this worker lost the job's lock/);
    expect(frozen.output()).not.toContain('handed back');
    // Its lost lock is the job's, said once as `lost`, not reported as Redis failing.
    expect(frozen.output()).not.toMatch(/Redis at .* failed/);

    const result = await sweep.done;
    expect(result.status, result.stderr).toBe(0);
    expect(query(db, 'SELECT status, note FROM runs')).toEqual([
      { status: 'completed', note: expect.stringMatching(/^attempt 1 on \S+ lost \(worker stopped responding\), attempt 2 on \S+$/) },
    ]);
    expect(taker.output()).toMatch(/ finished /);
    expect(frozen.output()).not.toMatch(/ finished /);
    // Trained to its end: its folder is gone.
    expect(readdirSync(folders)).toEqual([]);
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
