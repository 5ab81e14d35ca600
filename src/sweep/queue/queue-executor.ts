import { Job, Queue, QueueEvents } from 'bullmq';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendRequest } from '../../backend/select.js';
import { modelDirOf } from '../../store/run-folders.js';
import { LOST_LEASE, type Executor, type TrialJob } from '../executor.js';
import type { TrialProcessEvents, TrialProcessOutcome } from '../trial-process.js';
import type { QueueAddress } from './address.js';
import { attemptsOf } from './attempts.js';
import { checkedProgress, checkedResult } from './checked-result.js';
import { connectionOf, QUEUE_NAME } from './connection.js';
import { printable } from './printable.js';
import { decodeResult, MODEL_FILES, queuedJobId, queuedTrialOf, type QueuedResult } from './queued-trial.js';

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
/** Progress and ends arrive as events; a look at each job this often catches an end whose event was missed (Redis restarted). */
const POLL_MS = 10_000;
/** How long a stopping coordinator waits for Redis to take back a waiting job before it gives up on it. */
const WITHDRAW_MS = 2000;
const FINISHED = new Set(['completed', 'failed']);
const NOT_STARTED = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children']);

interface Watcher {
  progress(data: unknown): void;
  ended(): void;
}

/**
 * Hands trials to workers through a BullMQ queue on Redis and waits for their results. The coordinator stays the only
 * process that writes the database and the run folders: workers return the model's files with the result.
 */
export class QueueExecutor implements Executor {
  readonly capacity: number;
  private readonly queue: Queue;
  /** Made on first use, reading the events stream from where it ended then (see listen). */
  private events: Promise<QueueEvents> | undefined;
  private readonly watchers = new Map<string, Watcher>();
  /** One timer looks at every watched job, rather than one timer per job. */
  private poll: NodeJS.Timeout | undefined;

  constructor(private readonly options: QueueExecutorOptions) {
    this.capacity = options.capacity;
    this.queue = new Queue(QUEUE_NAME, { connection: connectionOf(options.address) });
    this.queue.on('error', () => {});
  }

  /**
   * The queue's events, read from the last one in the stream now. BullMQ's default starts at whatever is newest when
   * its first blocking read reaches Redis, so a worker that takes a job and reports at once could go unheard.
   */
  private listen(): Promise<QueueEvents> {
    this.events ??= (async () => {
      // BullMQ's client is ioredis, whose XREVRANGE its interface leaves out.
      const client = (await this.queue.getBackend().client) as unknown as { xrevrange(...args: (string | number)[]): Promise<[string, string[]][]> };
      const [last] = await client.xrevrange(this.queue.keys.events!, '+', '-', 'COUNT', 1);
      const events = new QueueEvents(QUEUE_NAME, { connection: connectionOf(this.options.address), lastEventId: last?.[0] ?? '0-0' });
      events.on('error', () => {});
      // A throw in a listener would end BullMQ's event loop, and with it every trial's progress: each is caught here.
      const guarded =
        <T extends { jobId: string }>(act: (watcher: Watcher, event: T) => void) =>
        (event: T) => {
          try {
            const watcher = this.watchers.get(event.jobId);
            if (watcher) act(watcher, event);
          } catch (error) {
            console.error(`runner: ignored an event of queued job ${JSON.stringify(String(event.jobId).slice(0, 80))}: ${(error as Error).message}`);
          }
        };
      events.on('progress', guarded<{ jobId: string; data: unknown }>((watcher, { data }) => watcher.progress(data)));
      events.on('completed', guarded((watcher) => watcher.ended()));
      events.on('failed', guarded((watcher) => watcher.ended()));
      await events.waitUntilReady();
      return events;
    })();
    // A failed start is tried again by the next trial (Redis restarting).
    this.events.catch(() => (this.events = undefined));
    return this.events;
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
    clearInterval(this.poll);
    const events = await this.events?.catch(() => undefined);
    await Promise.all([events?.close(), this.queue.close()]);
  }

  private async runQueued(job: TrialJob, events: TrialProcessEvents, stop: AbortSignal): Promise<TrialProcessOutcome> {
    await this.listen();
    const trial = queuedTrialOf(job, this.options.commit, this.options.backend);
    const id = queuedJobId(trial);
    const earlier = await this.queue.getJob(id);
    const state = earlier ? await earlier.getState() : undefined;
    // A completed job is this trial's result, trained while the coordinator was away; a failed one is tried again.
    if (state === 'failed' || (state === 'completed' && this.options.force)) await earlier!.remove();
    else if (state === 'completed') return this.outcomeOf(earlier!, job, events, { ready: false, epochs: new Set() });
    const seen: Seen = { ready: false, epochs: new Set() };
    // With this id, adding a job that exists (waiting, or running on a worker) attaches to it instead.
    const enqueue = () =>
      this.queue.add('trial', trial, {
        jobId: id,
        removeOnComplete: { age: KEEP_FINISHED_SECONDS },
        removeOnFail: { age: KEEP_FINISHED_SECONDS },
      });
    const ended = await this.waitForEnd(id, job, events, seen, stop, enqueue);
    if (ended === 'stopped') {
      // A run another runner reclaimed is that runner's to finish: its job stays queued for it.
      if (stop.reason !== LOST_LEASE) await this.withdraw(id, job.runId);
      return stopped(stop);
    }
    if (!ended) {
      return {
        kind: 'killed',
        signal: 'SIGTERM',
        message: 'its job is no longer in the queue (Redis restarted without its append-only file, or the queue was cleared or drained) and no worker finished it',
      };
    }
    return this.outcomeOf(ended, job, events, seen);
  }

  /**
   * Enqueues the job and resolves with it finished, undefined when it vanished from the queue, or `stopped`. Its
   * events are listened for before it is enqueued: a worker may take it and report before `enqueue` returns.
   */
  private waitForEnd(
    id: string,
    trial: TrialJob,
    events: TrialProcessEvents,
    seen: Seen,
    stop: AbortSignal,
    enqueue: () => Promise<unknown>,
  ): Promise<Job | undefined | 'stopped'> {
    return new Promise((resolve, reject) => {
      let settled = false;
      let warned = false;
      let enqueued = false;
      const settle = (value: Job | undefined | 'stopped') => {
        if (settled) return;
        settled = true;
        this.unwatch(id);
        stop.removeEventListener('abort', onStop);
        resolve(value);
      };
      const check = () => {
        // Until the job is in the queue, not finding it means nothing.
        if (!enqueued) return;
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
      this.watch(id, {
        progress: (data) => {
          const progress = checkedProgress(data, trial.spec.config);
          if (!progress) {
            // Once per job: a worker that sends nothing but malformed progress would otherwise flood the terminal.
            if (!warned) console.error(`runner: ignored malformed progress of queued job ${id} (run ${trial.runId})`);
            warned = true;
            return;
          }
          if (progress.type === 'ready') {
            // Each start (a retry too) replaces the run's epochs by those its checkpoint restored.
            seen.ready = true;
            seen.epochs = new Set(progress.restored.map((record) => record.epoch));
            events.onReady?.(progress.backend, progress.loadSeconds, progress.restored);
          } else if (progress.type === 'epoch') {
            seen.epochs.add(progress.record.epoch);
            events.onEpoch?.(progress.record);
          } else events.onBatch?.(progress.epoch, progress.batch, progress.batches, progress.loss);
        },
        ended: check,
      });
      const enqueuing = enqueue();
      // Only once the job is in the queue, so that withdrawing it afterwards finds it.
      const onStop = () => void enqueuing.then(() => settle('stopped'), () => undefined);
      stop.addEventListener('abort', onStop, { once: true });
      enqueuing.then(
        () => {
          enqueued = true;
          if (stop.aborted) onStop();
          else check();
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          this.unwatch(id);
          stop.removeEventListener('abort', onStop);
          reject(error);
        },
      );
    });
  }

  private watch(id: string, watcher: Watcher): void {
    this.watchers.set(id, watcher);
    this.poll ??= setInterval(() => this.watchers.forEach((w) => w.ended()), POLL_MS);
  }

  private unwatch(id: string): void {
    this.watchers.delete(id);
    if (this.watchers.size > 0) return;
    clearInterval(this.poll);
    this.poll = undefined;
  }

  private async outcomeOf(job: Job, trial: TrialJob, events: TrialProcessEvents, seen: Seen): Promise<TrialProcessOutcome> {
    const { logs } = await this.queue.getJobLogs(job.id!);
    const state = await job.getState();
    if (state === 'failed') {
      // Written by a worker, or by whoever can write to the queue: shown without control characters.
      const reason = printable(job.failedReason ?? '');
      const stalled = /stalled/i.test(reason);
      const attempts = this.noteAttempts(trial, logs, stalled);
      const message = stalled
        ? `its worker stopped responding on every attempt (${attempts.join(', ') || 'no attempt recorded'}), so it was given up: ${reason}`
        : reason || 'its job failed';
      return { kind: 'error', message };
    }
    let queued: QueuedResult;
    try {
      queued = checkedResult(decoded(job.returnvalue), trial.spec.config);
    } catch (error) {
      this.noteAttempts(trial, logs, false);
      return { kind: 'error', message: (error as Error).message };
    }
    const { result } = queued;
    // A coordinator that missed the start (it was away, or Redis restarted) learns what the checkpoint restored now,
    // before the epochs it did not see: the run's epochs are replaced by the restored ones at each start.
    if (!seen.ready) {
      const restored = result.resumedFrom === undefined ? [] : result.epochs.filter((record) => record.epoch <= result.resumedFrom!);
      events.onReady?.(queued.backend, 0, restored);
      seen.epochs = new Set(restored.map((record) => record.epoch));
    }
    for (const record of result.epochs) if (!seen.epochs.has(record.epoch)) events.onEpoch?.(record);
    writeModel(modelDirOf(this.options.runsDir, trial.runId), queued);
    this.noteAttempts(trial, logs, false);
    return { kind: 'result', result, backend: queued.backend, host: queued.worker };
  }

  /**
   * Records on the run where each attempt ran, when there was more than one: the note numbers them, so its last names
   * how many there were. Called before the outcome resolves, so that the note is written with the run's end.
   */
  private noteAttempts(trial: TrialJob, logs: readonly string[], lastLost: boolean): string[] {
    const attempts = attemptsOf(logs, lastLost);
    if (attempts.length > 1) this.options.onAttempts(trial.runId, attempts.join(', '));
    return attempts;
  }

  /**
   * Takes a job no worker has started out of the queue; one already training may finish, and a re-run takes its
   * result. Only this coordinator's own job: another run of the same trial (a coordinator run again) shares its id.
   */
  private async withdraw(id: string, runId: string): Promise<void> {
    const withdrawing = (async () => {
      const job = await this.queue.getJob(id);
      if (job && (job.data as { runId?: unknown }).runId === runId && NOT_STARTED.has(await job.getState())) await job.remove();
    })().catch(() => {});
    await Promise.race([withdrawing, new Promise((resolve) => setTimeout(resolve, WITHDRAW_MS).unref())]);
  }
}

/** A job's return value as a worker encoded it, or undefined when it is not that (checkedResult then says so). */
function decoded(returnValue: unknown): unknown {
  try {
    return typeof returnValue === 'string' ? decodeResult(returnValue) : undefined;
  } catch {
    return undefined;
  }
}

/** What the coordinator heard of a job as it ran: its start, and which epochs. */
interface Seen {
  ready: boolean;
  epochs: Set<number>;
}

function stopped(stop: AbortSignal): TrialProcessOutcome {
  return { kind: 'killed', signal: 'SIGINT', message: typeof stop.reason === 'string' ? stop.reason : 'stopped by the user' };
}

/** Written beside the model folder and renamed into place, as the trainer saves it: never half a model. */
function writeModel(modelDir: string, queued: QueuedResult): void {
  // Only the files a saved model has: a name from the queue never becomes a path of its own.
  const names = MODEL_FILES.filter((name) => typeof queued.model[name] === 'string');
  if (names.length === 0) return;
  const partial = `${modelDir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  for (const name of names) writeFileSync(join(partial, name), Buffer.from(queued.model[name]!, 'base64'));
  rmSync(modelDir, { recursive: true, force: true });
  renameSync(partial, modelDir);
}
