import { Job, Queue, QueueEvents } from 'bullmq';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendRequest } from '../../backend/select.js';
import { modelDirOf } from '../../store/run-folders.js';
import type { Executor, TrialJob } from '../executor.js';
import type { TrialProcessEvents, TrialProcessOutcome } from '../trial-process.js';
import type { QueueAddress } from './address.js';
import { attemptsNote } from './attempts.js';
import { connectionOf } from './connection.js';
import { QUEUE_NAME } from './address.js';
import { decodeResult, queuedJobId, queuedTrialOf, type QueuedProgress, type QueuedResult } from './queued-trial.js';

export interface QueueExecutorOptions {
  address: QueueAddress;
  runsDir: string;
  /** Jobs kept in the queue at once. */
  capacity: number;
  /** The coordinator's git commit: workers on another one refuse its jobs. */
  commit: string | undefined;
  /** The coordinator's --backend, when given. */
  backend: BackendRequest | undefined;
  /** Re-train completed trials: a completed job of the same trial is not taken as its result. */
  force: boolean;
  /** Records on the trial's run row that it took more than one attempt, and where each ran. */
  onAttempts(runId: string, note: string): void;
}

/**
 * Long enough for a coordinator killed mid-sweep to be run again and take the results its workers finished meanwhile;
 * results hold whole models, so they do not stay in Redis forever.
 */
const KEEP_FINISHED_SECONDS = 7 * 24 * 3600;
/** Progress and ends arrive as events; a look at the job this often catches an end whose event was missed (Redis restarted). */
const POLL_MS = 3000;
/** How long a stopping coordinator waits for Redis to take back a waiting job before it gives up on it. */
const WITHDRAW_MS = 2000;
const FINISHED = new Set(['completed', 'failed']);
const NOT_STARTED = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children']);

interface Watcher {
  progress(data: QueuedProgress): void;
  ended(): void;
}

/**
 * Hands trials to workers through a BullMQ queue on Redis and waits for their results. The coordinator stays the only
 * process that writes the database and the run folders: workers return the model's files with the result.
 */
export class QueueExecutor implements Executor {
  readonly capacity: number;
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly watchers = new Map<string, Watcher>();

  constructor(private readonly options: QueueExecutorOptions) {
    this.capacity = options.capacity;
    this.queue = new Queue(QUEUE_NAME, { connection: connectionOf(options.address) });
    this.events = new QueueEvents(QUEUE_NAME, { connection: connectionOf(options.address) });
    this.queue.on('error', () => {});
    this.events.on('error', () => {});
    this.events.on('progress', ({ jobId, data }) => this.watchers.get(jobId)?.progress(data as QueuedProgress));
    this.events.on('completed', ({ jobId }) => this.watchers.get(jobId)?.ended());
    this.events.on('failed', ({ jobId }) => this.watchers.get(jobId)?.ended());
  }

  async run(job: TrialJob, events: TrialProcessEvents, stop: AbortSignal): Promise<TrialProcessOutcome> {
    try {
      return await this.runQueued(job, events, stop);
    } catch (error) {
      if (stop.aborted) return stopped(stop);
      return { kind: 'error', message: `the queue at ${this.options.address.shown} failed: ${(error as Error).message}` };
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.events.close(), this.queue.close()]);
  }

  private async runQueued(job: TrialJob, events: TrialProcessEvents, stop: AbortSignal): Promise<TrialProcessOutcome> {
    await this.events.waitUntilReady();
    const trial = queuedTrialOf(job, this.options.commit, this.options.backend);
    const id = queuedJobId(trial);
    const earlier = await this.queue.getJob(id);
    const state = earlier ? await earlier.getState() : undefined;
    // A completed job is this trial's result, trained while the coordinator was away; a failed one is tried again.
    if (state === 'failed' || (state === 'completed' && this.options.force)) await earlier!.remove();
    else if (state === 'completed') return this.outcomeOf(earlier!, job, events, new Set());
    // With this id, adding a job that exists (waiting, or running on a worker) attaches to it instead.
    await this.queue.add('trial', trial, {
      jobId: id,
      removeOnComplete: { age: KEEP_FINISHED_SECONDS },
      removeOnFail: { age: KEEP_FINISHED_SECONDS },
    });
    const seenEpochs = new Set<number>();
    const ended = await this.waitForEnd(id, events, seenEpochs, stop);
    if (ended === 'stopped') {
      await this.withdraw(id);
      return stopped(stop);
    }
    if (!ended) {
      return { kind: 'killed', signal: 'SIGTERM', message: 'its job was removed from the queue (runner queue clear or drain) before a worker finished it' };
    }
    return this.outcomeOf(ended, job, events, seenEpochs);
  }

  /** Resolves with the finished job, undefined when it vanished from the queue, or `stopped`. */
  private waitForEnd(id: string, events: TrialProcessEvents, seenEpochs: Set<number>, stop: AbortSignal): Promise<Job | undefined | 'stopped'> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (value: Job | undefined | 'stopped') => {
        if (settled) return;
        settled = true;
        clearInterval(poll);
        this.watchers.delete(id);
        stop.removeEventListener('abort', onStop);
        resolve(value);
      };
      const check = () => {
        this.queue
          .getJob(id)
          .then(async (job) => {
            if (!job) return settle(undefined);
            // Read again once finished: the job read above may predate its end, without its return value.
            if (FINISHED.has(await job.getState())) settle(await this.queue.getJob(id));
          })
          .catch((error: unknown) => {
            // Redis restarting: the next look tries again. Only a stopping sweep gives up.
            if (stop.aborted && !settled) reject(error);
          });
      };
      const onStop = () => settle('stopped');
      const poll = setInterval(check, POLL_MS);
      stop.addEventListener('abort', onStop, { once: true });
      this.watchers.set(id, {
        progress: (data) => {
          if (data?.type === 'epoch') {
            seenEpochs.add(data.record.epoch);
            events.onEpoch?.(data.record);
          } else if (data?.type === 'batch') events.onBatch?.(data.epoch, data.batch, data.batches, data.loss);
        },
        ended: check,
      });
      if (stop.aborted) onStop();
      else check();
    });
  }

  private async outcomeOf(job: Job, trial: TrialJob, events: TrialProcessEvents, seenEpochs: Set<number>): Promise<TrialProcessOutcome> {
    const { logs } = await this.queue.getJobLogs(job.id!);
    const state = await job.getState();
    if (state === 'failed') {
      const stalled = /stalled/i.test(job.failedReason ?? '');
      const note = attemptsNote(logs, stalled);
      if (note) this.options.onAttempts(trial.runId, note);
      const message = stalled ? `its worker stopped responding on every attempt (${note ?? 'no attempt recorded'}), so it was given up: ${job.failedReason}` : (job.failedReason ?? 'its job failed');
      return { kind: 'error', message };
    }
    const queued = decodeResult(job.returnvalue as string);
    // Epochs whose progress event this coordinator did not see (it was away, or Redis restarted) are recorded now.
    for (const record of queued.result.epochs) if (!seenEpochs.has(record.epoch)) events.onEpoch?.(record);
    writeModel(modelDirOf(this.options.runsDir, trial.runId), queued);
    const note = attemptsNote(logs, false);
    if (note) this.options.onAttempts(trial.runId, note);
    return { kind: 'result', result: queued.result, backend: queued.backend };
  }

  /** Takes a job no worker has started out of the queue; one already training may finish, and a re-run takes its result. */
  private async withdraw(id: string): Promise<void> {
    const withdrawing = (async () => {
      const job = await this.queue.getJob(id);
      if (job && NOT_STARTED.has(await job.getState())) await job.remove();
    })().catch(() => {});
    await Promise.race([withdrawing, new Promise((resolve) => setTimeout(resolve, WITHDRAW_MS).unref())]);
  }
}

function stopped(stop: AbortSignal): TrialProcessOutcome {
  return { kind: 'killed', signal: 'SIGINT', message: typeof stop.reason === 'string' ? stop.reason : 'stopped by the user' };
}

const MODEL_FILES = ['model.json', 'weights.bin'] as const;

/** Written beside the model folder and renamed into place, as the trainer saves it: never half a model. */
function writeModel(modelDir: string, queued: QueuedResult): void {
  // Only the two files a saved model has: a name from the queue never becomes a path of its own.
  const names = MODEL_FILES.filter((name) => typeof queued.model[name] === 'string');
  if (names.length === 0) return;
  const partial = `${modelDir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  for (const name of names) writeFileSync(join(partial, name), Buffer.from(queued.model[name]!, 'base64'));
  rmSync(modelDir, { recursive: true, force: true });
  renameSync(partial, modelDir);
}
