import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { chooseBackend, type BackendChoice, type BackendRequest } from '../../backend/select.js';
import { checkedDataLocation } from '../../data/dataset.js';
import { UserError } from '../../errors.js';
import { gitInfo } from '../../git.js';
import { checkModel } from '../../model/checks.js';
import { checkpointDirOf, modelDirOf, removeRunFolder, removeUnfinishedModel } from '../../store/run-folders.js';
import { percent, plural } from '../../ui/format.js';
import { trialLabel } from '../expand.js';
import { runTrialProcess, type TrialProcessOutcome } from '../trial-process.js';
import { spokenDuration } from '../trial-outcome.js';
import type { QueueAddress } from './address.js';
import { HANDED_BACK, STARTED } from './attempts.js';
import { connectionOf, QUEUE_NAME } from './connection.js';
import { printable } from './printable.js';
import { checkedQueuedTrial, encodeResult, MODEL_FILES, type QueuedProgress, type QueuedTrial } from './queued-trial.js';
import { trialFolderName, workerFolder } from './worker-folders.js';

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
  /** The most memory one trial may need, by the model checks' estimate: this machine's limit, not the coordinator's. */
  maxMemory: number;
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
/** Why BullMQ's signal aborts a job whose lock this worker could not renew: another worker may hold it now. */
const LOCK_LOST = 'this worker lost the job\'s lock (it was frozen or cut off from Redis), so the job may be another worker\'s now';

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
  const folders = workerFolder();
  const trials = new AbortController();
  /** Trials this worker is training now. */
  let training = 0;

  const refuse = (id: string, problem: string): never => {
    summary.failed++;
    log(`rejected ${id}: ${printable(problem)}`);
    throw new UnrecoverableError(problem);
  };

  // Three parameters, not fewer: BullMQ hands a processor an abort signal only when it declares one.
  const trainJob = async (job: Job, token: string | undefined, lockLost: AbortSignal | undefined): Promise<string> => {
    const id = printable(job.id ?? '?');
    let trial: QueuedTrial;
    try {
      trial = checkedQueuedTrial(job.data);
    } catch (error) {
      return refuse(id, (error as Error).message);
    }
    const label = printable(`${job.id} ${trialLabel(trial)}`);
    if (trial.commit !== commit) {
      const theirs = trial.commit ?? 'none (enqueued outside a git checkout)';
      if (!refusedCommits.has(theirs)) {
        refusedCommits.add(theirs);
        log(`refused ${label}: it was enqueued at commit ${theirs}, this worker runs ${commit ?? 'outside a git checkout'}; check out ${trial.commit ?? 'the same code'} here (git checkout ${trial.commit?.slice(0, 12) ?? '…'} && npm ci) and start the worker again. Its jobs stay queued for a worker on that commit.`);
      }
      return handBack(job, token, REFUSED_DELAY_MS);
    }
    if (trials.signal.aborted) return handBack(job, token);
    // Checked with this commit's code against this machine's limit: the coordinator's --max-memory is another machine's.
    const { problems } = checkModel(trial.config, { maxMemory: options.maxMemory });
    if (problems.length) return refuse(id, `refused: ${name} will not train it: ${problems.map(described).join('; ')}`);
    let backend: BackendChoice;
    try {
      backend = await backendFor(options.backend ?? trial.backend ?? 'auto');
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      summary.failed++;
      log(`failed ${label}: on ${name}: ${printable(error.message)}`);
      throw new UnrecoverableError(`${name} cannot train it: ${[error.message, ...error.problems.map(described)].join('; ')}`);
    }
    await job.log(`${STARTED}${name}`);
    training++;
    try {
      return await trainPulled(job, trial, label, backend, token, lockLost);
    } finally {
      training--;
    }
  };

  const trainPulled = async (
    job: Job,
    trial: QueuedTrial,
    label: string,
    backend: BackendChoice,
    token: string | undefined,
    lockLost: AbortSignal | undefined,
  ): Promise<string> => {
    log(`pulled ${label} (backend ${backend.name})`);
    // Per run, not per job or worker: a trial pulled again on this machine goes on from the checkpoint it left.
    const folder = trialFolderName(trial.runId, trial.commit);
    const modelDir = modelDirOf(folders, folder);
    removeUnfinishedModel(folders, folder);
    let lastBatch = 0;
    const report = (progress: QueuedProgress) => void job.updateProgress(progress).catch(() => {});
    const outcome = await runTrialProcess(
      { type: 'run', config: trial.config, backend: backend.name, gpu: options.gpu, data, modelDir, checkpointDir: checkpointDirOf(folders, folder), untilEpoch: trial.untilEpoch },
      {
        onReady: (info, loadSeconds, restored) => report({ type: 'ready', backend: info, loadSeconds, restored }),
        onBatch(epoch, batch, batches, loss) {
          const now = performance.now();
          if (now - lastBatch < BATCH_PROGRESS_MS && batch !== batches) return;
          lastBatch = now;
          report({ type: 'batch', epoch, batch, batches, loss });
        },
        onEpoch: (record) => report({ type: 'epoch', record }),
      },
      { stop: lockLost ? AbortSignal.any([trials.signal, lockLost]) : trials.signal, stallMs: options.stallMs },
    );
    if (lockLost?.aborted) {
      // Not handed back: the job is no longer this worker's to move. Its checkpoint stays for a retry here.
      log(`lost ${label}: ${LOCK_LOST}; stopped training it`);
      throw new Error(`on ${name}: ${LOCK_LOST}`);
    }
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
      log(`failed ${label}: ${printable(message)}`);
      // BullMQ retries no job of this queue (one attempt; only a lost worker's job runs again), so the trial is over.
      removeRunFolder(folders, folder);
      throw new Error(`on ${name}: ${message}`);
    }
    const { result } = outcome;
    const model = Object.fromEntries(
      MODEL_FILES.filter((file) => existsSync(join(modelDir, file))).map((file) => [file, readFileSync(join(modelDir, file)).toString('base64')]),
    );
    // A trial paused at an ASHA rung keeps its checkpoint, to go on from when it is promoted.
    if (result.reachedEnd) removeRunFolder(folders, folder);
    else removeUnfinishedModel(folders, folder);
    summary.trained++;
    const accuracy = result.test ? `, test accuracy ${percent(result.test.accuracy, 1)}` : '';
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
  // BullMQ reports a lock it could not renew but does not stop the job: the trial would train on as a second copy.
  const lostJobs = new Set<string>();
  worker.on('lockRenewalFailed', (jobIds) =>
    jobIds.forEach((jobId) => {
      lostJobs.add(jobId);
      worker.cancelJob(jobId, LOCK_LOST);
    }),
  );
  // Redis restarting or unreachable: BullMQ reconnects by itself; say so at most once a minute rather than per retry.
  let lastRedisError = 0;
  worker.on('error', (error) => {
    // A lost job's lock errors (renewing it, ending it) are that job's, already logged as `lost`, not Redis failing.
    if ([...lostJobs].some((jobId) => error.message.includes(jobId))) return;
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

/** A problem as one clause: its message, and what to do in brackets. */
function described(problem: { message: string; hint?: string }): string {
  return problem.hint ? `${problem.message} (${problem.hint})` : problem.message;
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
