import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseBackend, type BackendChoice, type BackendRequest } from '../../backend/select.js';
import { checkedDataLocation } from '../../data/dataset.js';
import { UserError } from '../../errors.js';
import { gitInfo } from '../../git.js';
import { paramLabels, plural } from '../../ui/format.js';
import { runTrialProcess, type TrialProcessOutcome } from '../trial-process.js';
import { spokenDuration } from '../trial-outcome.js';
import { QUEUE_NAME, type QueueAddress } from './address.js';
import { HANDED_BACK, STARTED } from './attempts.js';
import { connectionOf } from './connection.js';
import { checkedQueuedTrial, encodeResult, type QueuedProgress, type QueuedTrial } from './queued-trial.js';

export interface QueueWorkerOptions {
  address: QueueAddress;
  /** Trials trained at once, each in its own process. */
  concurrency: number;
  /** This machine's --backend, which wins over the job's. */
  backend?: BackendRequest;
  gpu?: string;
  dataDir?: string;
  /** How long a trial may report no progress before its process is killed as hung. */
  stallMs: number;
  /** How long a job stays this worker's without a renewal: past it, another worker takes the job (BullMQ's stalled check). */
  lockSeconds: number;
  log(line: string): void;
}

export interface WorkerSummary {
  trained: number;
  failed: number;
  handedBack: number;
}

/** How long a job this worker refused (another commit's) waits before any worker looks at it again. */
const REFUSED_DELAY_MS = 5000;
/** Batch progress crosses the network: once a second is plenty for a progress bar. */
const BATCH_PROGRESS_MS = 1000;

/**
 * Pulls trials from the queue and trains each in its own process, as a local sweep does, until `stop` aborts: then it
 * takes no more, stops its running trials at their batch's end, and hands their jobs back to the queue. It writes no
 * database: results, progress and the saved model go back through the queue to the coordinator.
 */
export async function runQueueWorker(options: QueueWorkerOptions, stop: AbortSignal): Promise<WorkerSummary> {
  const { address, log } = options;
  const name = `${hostname()}:${process.pid}`;
  const commit = gitInfo().commit;
  const summary: WorkerSummary = { trained: 0, failed: 0, handedBack: 0 };
  // Found and read once, whole, before any job: a missing or partial copy is this machine's error, not every job's,
  // and no job waits for it (reading it blocks this process for seconds, long enough to lose a job's lock).
  const data = await checkedDataLocation({ dataDir: options.dataDir }, [{ file: 'runner worker (which takes trials of any size)' }]);
  const backendFor = memo((request: string) => chooseBackend(request as BackendRequest, { gpu: options.gpu }));
  // Probed before any job too: a probe may load a backend into this process, which blocks it as reading the data does.
  const ownBackend = await backendFor(options.backend ?? 'auto');
  const refusedCommits = new Set<string>();
  const trials = new AbortController();
  /** Trials this worker is training now. */
  let training = 0;

  const trainJob = async (job: Job, token?: string): Promise<string> => {
    let trial: QueuedTrial;
    try {
      trial = checkedQueuedTrial(job.data);
    } catch (error) {
      summary.failed++;
      log(`rejected ${job.id}: ${(error as Error).message}`);
      throw error;
    }
    const label = `${job.id} ${trial.experiment}${labelOf(trial)}`;
    if (trial.commit !== commit) {
      const theirs = trial.commit ?? 'none (enqueued outside a git checkout)';
      if (!refusedCommits.has(theirs)) {
        refusedCommits.add(theirs);
        log(`refused ${label}: it was enqueued at commit ${theirs}, this worker runs ${commit ?? 'outside a git checkout'}; check out ${trial.commit ?? 'the same code'} here (git checkout ${trial.commit?.slice(0, 12) ?? '…'} && npm ci) and start the worker again. Its jobs stay queued for a worker on that commit.`);
      }
      return handBack(job, token, REFUSED_DELAY_MS);
    }
    if (trials.signal.aborted) return handBack(job, token);
    let backend: BackendChoice;
    try {
      backend = await backendFor(options.backend ?? trial.backend ?? 'auto');
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      summary.failed++;
      log(`failed ${label}: on ${name}: ${error.message}`);
      throw new UnrecoverableError(`${name} cannot train it: ${error.message}${error.problems.map((p) => `; ${p.message}${p.hint ? ` (${p.hint})` : ''}`).join('')}`);
    }
    await job.log(`${STARTED}${name}`);
    training++;
    try {
      return await trainPulled(job, trial, label, backend, token);
    } finally {
      training--;
    }
  };

  const trainPulled = async (job: Job, trial: QueuedTrial, label: string, backend: BackendChoice, token: string | undefined): Promise<string> => {
    log(`pulled ${label} (backend ${backend.name})`);
    // Per trial, not per job or worker: a trial pulled again on this machine goes on from the checkpoint it left.
    const folder = join(tmpdir(), 'runner-worker', trial.hash);
    const modelDir = join(folder, 'model');
    rmSync(modelDir, { recursive: true, force: true });
    let lastBatch = 0;
    const report = (progress: QueuedProgress) => void job.updateProgress(progress).catch(() => {});
    const outcome = await runTrialProcess(
      { type: 'run', config: trial.config, backend: backend.name, gpu: options.gpu, data, modelDir, checkpointDir: join(folder, 'checkpoint'), untilEpoch: trial.untilEpoch },
      {
        onBatch(epoch, batch, batches, loss) {
          const now = performance.now();
          if (now - lastBatch < BATCH_PROGRESS_MS && batch !== batches) return;
          lastBatch = now;
          report({ type: 'batch', epoch, batch, batches, loss });
        },
        onEpoch: (record) => report({ type: 'epoch', record }),
      },
      { stop: trials.signal, stallMs: options.stallMs },
    );
    if (trials.signal.aborted && !(outcome.kind === 'result' && outcome.result.outcome !== 'interrupted')) {
      // Stopped with this worker: the trial is not over, another worker (or this one, restarted) takes it up.
      summary.handedBack++;
      await job.log(`${HANDED_BACK}${name}`);
      log(`handed back ${label}: this worker is stopping`);
      return handBack(job, token);
    }
    if (outcome.kind !== 'result' || outcome.result.outcome === 'interrupted') {
      summary.failed++;
      const message = failure(outcome);
      log(`failed ${label}: ${message}`);
      throw new Error(`on ${name}: ${message}`);
    }
    const { result } = outcome;
    const model = Object.fromEntries(
      ['model.json', 'weights.bin'].filter((file) => existsSync(join(modelDir, file))).map((file) => [file, readFileSync(join(modelDir, file)).toString('base64')]),
    );
    // A trial paused at an epoch budget keeps its checkpoint, to go on from when it is promoted.
    rmSync(result.reachedEnd ? folder : modelDir, { recursive: true, force: true });
    summary.trained++;
    const accuracy = result.test ? `, test accuracy ${(result.test.accuracy * 100).toFixed(1)}%` : '';
    log(`finished ${label}: ${result.outcome}${accuracy}, ${result.seconds.toFixed(1)} s`);
    return encodeResult({ result, backend: outcome.backend, worker: name, model });
  };

  const worker = new Worker(QUEUE_NAME, trainJob, {
    connection: connectionOf(address),
    concurrency: options.concurrency,
    name,
    lockDuration: options.lockSeconds * 1000,
    // Renewed four times per lock, not BullMQ's two: on a loaded machine a renewal or two may come late without the
    // job being taken from a worker that is alive.
    lockRenewTime: (options.lockSeconds * 1000) / 4,
    stalledInterval: options.lockSeconds * 1000,
    // A trial whose worker dies twice (it may be what kills it: memory) fails rather than taking down worker after worker.
    maxStalledCount: 1,
    autorun: false,
  });
  // Redis restarting or unreachable: BullMQ reconnects by itself; say so at most once a minute rather than per retry.
  let lastRedisError = 0;
  worker.on('error', (error) => {
    if (Date.now() - lastRedisError < 60_000) return;
    lastRedisError = Date.now();
    log(`the queue's Redis at ${address.shown} failed (${error.message}); retrying until it answers`);
  });
  log(`worker ${name} pulling from ${address.shown}: commit ${commit ?? 'none (not a git checkout)'}, ${options.concurrency} at a time, backend ${ownBackend.reason}, data ${data.dir} (${data.via})`);
  const running = worker.run();
  await new Promise<void>((resolve) => (stop.aborted ? resolve() : stop.addEventListener('abort', () => resolve(), { once: true })));
  log(`stopping: taking no more jobs${training ? `; ${plural(training, 'running trial')} ${training === 1 ? 'stops' : 'stop'} at the end of a batch and ${training === 1 ? 'goes' : 'go'} back to the queue` : ''}`);
  trials.abort();
  await worker.close();
  await running;
  return summary;
}

/** Puts a job this worker holds back in the queue, for any worker after `delayMs`, without counting it as a failure. */
async function handBack(job: Job, token: string | undefined, delayMs = 0): Promise<never> {
  await job.moveToDelayed(Date.now() + delayMs, token);
  throw new DelayedError();
}

function labelOf(trial: QueuedTrial): string {
  const labels = paramLabels(trial.params);
  return labels.length ? ` ${labels.join(' ')}` : '';
}

function failure(outcome: TrialProcessOutcome): string {
  switch (outcome.kind) {
    case 'result':
      return 'the trial process was stopped from outside (SIGTERM)';
    case 'stalled':
      return `no progress for ${spokenDuration(outcome.idleMs)}: the trial process was killed`;
    default:
      return outcome.message;
  }
}

/** Each key's value computed once, a failure included (a missing backend stays missing). */
function memo<T>(compute: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  return (key) => {
    if (!cache.has(key)) cache.set(key, compute(key));
    return cache.get(key)!;
  };
}
