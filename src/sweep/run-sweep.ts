import { randomUUID } from 'node:crypto';
import { relative } from 'node:path';
import { chooseBackend, defaultConcurrency, type BackendRequest } from '../backend/select.js';
import type { Override } from '../config/load-experiment.js';
import type { SweepFlag } from '../config/sweep-flag.js';
import { checkedDataLocation } from '../data/dataset.js';
import type { DataLocation } from '../data/locate.js';
import { gitInfo } from '../git.js';
import type { FinalStatus } from '../run-status.js';
import { plural } from '../ui/format.js';
import { databaseFailure } from '../store/database-failure.js';
import { RunStore, type Lease } from '../store/run-store.js';
import { checkpointDirOf, modelDirOf, newRunId, removeCheckpoint, removeRunFolder, removeUnfinishedModel, removeUnfinishedModels, runsDirFor } from '../store/run-folders.js';
import { checkpointEpoch } from '../trial/checkpoint.js';
import { LOST_LEASE, type Executor } from './executor.js';
import { LocalPool } from './local-pool.js';
import { STALL_MS } from './trial-process.js';
import type { QueueAddress } from './queue/address.js';
import { QueueExecutor } from './queue/queue-executor.js';
import { planSearches } from './search/plan-searches.js';
import type { Proposal } from './search/strategy.js';
import { planSweep } from './checked-trials.js';
import { trialLabel, type TrialSpec } from './expand.js';
import { runOutcome } from './trial-outcome.js';
import type { TrialResult } from '../trial/run-trial.js';
import type { EpochRecord } from '../trial/records.js';

export interface SweepOptions {
  files: string[];
  overrides: Override[];
  /** --sweep axes; none when absent. */
  sweeps?: SweepFlag[];
  backend?: BackendRequest;
  /** On a machine with several GPUs, the one to train on: part of its adapter name. */
  gpu?: string;
  concurrency?: number;
  force: boolean;
  repeat?: number;
  maxTrials?: number;
  /** Bytes one trial may use (see trainingMemory); the default when absent. */
  maxMemory?: number;
  dbPath: string;
  dataDir?: string;
  command: string;
  /** How long a trial may report no batch or epoch progress before its worker is killed as hung; STALL_MS by default. */
  stallMs?: number;
  /** How long this runner's hold on its running trials lasts without a renewal; LEASE_SECONDS by default. */
  leaseSeconds?: number;
  /** Hand trials to workers through this queue instead of training them here. */
  queue?: QueueAddress;
}

/** Long enough that a busy database (writes wait up to 15 s) does not cost a live runner its lease. */
export const LEASE_SECONDS = 30;
/** Renewals within one lease: a few may fail or wait without the lease lapsing. */
const RENEWALS_PER_LEASE = 6;

export interface TrialLabel {
  runId: string;
  spec: TrialSpec;
  label: string;
  /** Where it stops, resumable, when before train.epochs (an ASHA rung). */
  untilEpoch?: number;
  /** The epoch it continues after, when it continues an earlier run (0: that run left no checkpoint). */
  fromEpoch?: number;
}

/** What the sweep tells whoever is watching (the terminal UI); it never prints by itself. */
export interface SweepReporter {
  /** `backend`: what was chosen and why, in one line. */
  planned(info: { trials: number; skipped: number; runningElsewhere: number; backend: string; concurrency: number; data: DataLocation[]; searches: string[] }): void;
  trialStarted(trial: TrialLabel): void;
  trialBatch(trial: TrialLabel, epoch: number, batch: number, batches: number, loss: number): void;
  trialEpoch(trial: TrialLabel, record: EpochRecord): void;
  trialFinished(trial: TrialLabel, status: FinalStatus, result: TrialResult | undefined, error?: string): void;
  stopping(reason: string): void;
}

export interface SweepSummary {
  sweepId: number;
  counts: Record<FinalStatus, number>;
  /** Already completed on this branch. */
  skipped: number;
  /** Held by another runner's live lease: being trained right now, not done. */
  runningElsewhere: number;
  notStarted: number;
  /** Stopped by the user (Ctrl-C, SIGTERM). */
  interrupted: boolean;
  /** Why SQLite refused a write, when it did: the sweep stopped there. */
  databaseFailure?: string;
  /** Trials whose end the failing database did not take: their rows stay `running` until their lease lapses. */
  unrecorded: number;
  /** Where searches other than a plain list (ASHA) left their configs. */
  searches: string[];
}

export async function runSweep(options: SweepOptions, reporter: SweepReporter, stop: AbortSignal): Promise<SweepSummary> {
  const plan = planSweep(options);
  const { trials } = plan;
  const requested = options.backend ?? plan.backend;
  // Workers choose their backends and find the data on their own machines; the coordinator may have neither a GPU nor the data.
  const backend = options.queue ? undefined : await chooseBackend(requested, { gpu: options.gpu });
  const data = options.queue ? new Map<string | undefined, DataLocation>() : await findData(trials, options.dataDir);
  // Through a queue, every trial is enqueued at once unless --concurrency says fewer: workers decide how many train.
  const concurrency = options.concurrency ?? (backend ? defaultConcurrency(backend) : Math.max(1, trials.length));
  const runsDir = runsDirFor(options.dbPath);
  const lease: Lease = { owner: randomUUID(), seconds: options.leaseSeconds ?? LEASE_SECONDS };
  const stallMs = options.stallMs ?? STALL_MS;

  const counts: Record<FinalStatus, number> = { completed: 0, failed: 0, diverged: 0, interrupted: 0 };
  const summary: SweepSummary = { sweepId: 0, counts, skipped: 0, runningElsewhere: 0, notStarted: 0, interrupted: false, unrecorded: 0, searches: [] };
  // Stops the trials, whether the user asked (Ctrl-C, SIGTERM) or the database failed under the sweep; its reason is
  // what stopped trials are recorded with.
  const halt = new AbortController();
  const onStop = () => {
    summary.interrupted = true;
    halt.abort(typeof stop.reason === 'string' ? stop.reason : 'stopped by the user');
  };
  /**
   * Runs a database statement; when SQLite refuses it (disk full, a lock held too long), the sweep stops instead of
   * crashing. Once one failed, only the statements that record how trials and the sweep ended are still tried, since
   * each may wait out the whole busy timeout.
   */
  const write = <T>(action: () => T, { recordsAnEnd = false } = {}): T | undefined => {
    if (summary.databaseFailure && !recordsAnEnd) return undefined;
    try {
      return action();
    } catch (error) {
      const failure = databaseFailure(error);
      if (failure === undefined) throw error;
      if (!summary.databaseFailure) {
        summary.databaseFailure = failure;
        halt.abort(`the run database failed: ${failure}`);
      }
      return undefined;
    }
  };

  const store = new RunStore(options.dbPath);
  let heartbeat: NodeJS.Timeout | undefined;
  // Closed on the way out, however the sweep ends.
  let opened: Executor | undefined;
  try {
    // Runs of a runner that stopped renewing its lease may have left half a model; their checkpoints stay.
    removeUnfinishedModels(runsDir, write(() => store.reclaimLapsed()) ?? []);
    const git = gitInfo();
    const searches = write(() => planSearches(plan.searches, store, git.branch, options.force));
    if (!searches) return { ...summary, notStarted: trials.length };
    summary.skipped = searches.skipped;
    summary.runningElsewhere = searches.runningElsewhere;
    const search = searches.search;
    reporter.planned({ trials: search.remaining(), skipped: summary.skipped, runningElsewhere: summary.runningElsewhere, backend: backend?.reason ?? `chosen by each worker (${requested} requested)`, concurrency, data: [...data.values()], searches: searches.descriptions });
    // Stopped while choosing the backend or finding the data: nothing started, and the caller must hear so.
    if (stop.aborted) return { ...summary, interrupted: true, notStarted: search.remaining() };
    if (search.remaining() === 0) return summary;

    const sweepId = write(() => store.startSweep(options.command, lease));
    if (sweepId === undefined) return { ...summary, notStarted: search.remaining() };
    summary.sweepId = sweepId;
    const attemptNotes = new Map<string, string>();
    // Each running trial's own stop: the sweep halting, or this runner losing the trial's lease to another.
    const trialStops = new Map<string, AbortController>();
    heartbeat = setInterval(() => {
      const held = write(() => store.renewLease(lease));
      // Frozen past its lease (SIGSTOP, a suspended laptop), this runner lost those runs to another, which may be
      // continuing them in the same folder: their trials stop, and nothing of them is recorded or removed.
      for (const [runId, own] of trialStops) if (held && !held.has(runId)) own.abort(LOST_LEASE);
    }, (lease.seconds * 1000) / RENEWALS_PER_LEASE);
    const executor: Executor = options.queue
      ? new QueueExecutor({
          address: options.queue,
          runsDir,
          capacity: concurrency,
          commit: git.commit,
          backend: requested,
          force: options.force,
          // Written with the run's end, under its lease, beside whatever note a person wrote.
          onAttempts: (runId, note) => attemptNotes.set(runId, note),
        })
      : new LocalPool({ backend: backend!.name, gpu: options.gpu, data, runsDir, concurrency, stallMs });
    opened = executor;
    const running = new Set<Promise<void>>();
    halt.signal.addEventListener(
      'abort',
      () => {
        summary.notStarted += search.remaining();
        const stopping = `stopping: ${plural(running.size, 'running trial')} will be recorded as interrupted, ${summary.notStarted} not started`;
        reporter.stopping(summary.databaseFailure ? `the run database failed: ${summary.databaseFailure}; ${stopping}` : stopping);
        // Each renewal of a failing database could block for the whole busy timeout; the trials stop within a lease anyway.
        if (summary.databaseFailure) clearInterval(heartbeat);
      },
      { once: true },
    );
    stop.addEventListener('abort', onStop, { once: true });

    /** Claims the trial a search proposed (a new run, or the earlier run it continues), trains it, records how it ended. */
    const train = async (proposal: Proposal): Promise<void> => {
      const { spec, untilEpoch } = proposal;
      const claim = write(() =>
        store.claimRun(
          {
            id: newRunId(spec.hash),
            sweepId,
            experiment: spec.experiment,
            file: relative(process.cwd(), spec.file) || spec.file,
            config: spec.config,
            configHash: spec.hash,
            params: spec.params,
            seed: spec.config.train.seed,
            repeatIndex: spec.repeatIndex,
            git,
            // Through a queue, the worker's backend replaces the one requested when the trial ends.
            backend: backend?.name ?? requested,
          },
          // Forcing re-runs a config from scratch; its promotions and resumptions continue the run this sweep started.
          { force: options.force && proposal.fresh, lease, epochBudget: untilEpoch },
        ),
      );
      if (!claim || claim.outcome === 'completed' || claim.outcome === 'running-elsewhere') {
        // Another runner finished this trial, or holds it, since the plan was made.
        if (!claim) summary.notStarted++;
        else if (claim.outcome === 'completed') summary.skipped++;
        else summary.runningElsewhere++;
        search.ended(proposal, { status: 'skipped' });
        return;
      }
      removeUnfinishedModels(runsDir, claim.reclaimed);
      const { runId } = claim;
      let fromEpoch: number | undefined;
      // What the checkpoint says, for the terminal; the trial itself says what it restored once it has read it. Through
      // a queue the checkpoint is on a worker's disk, and the epochs recorded for the run are what is known here.
      if (claim.outcome === 'continued') fromEpoch = checkpointEpoch(checkpointDirOf(runsDir, runId)) ?? claim.epochsDone ?? 0;
      const trial: TrialLabel = { runId, spec, label: trialLabel(spec), untilEpoch, fromEpoch };
      const own = new AbortController();
      trialStops.set(runId, own);
      reporter.trialStarted(trial);
      const outcome = await executor.run(
        { runId, spec, untilEpoch },
        {
          // A trial started again (continued, or retried by a queue) keeps exactly the epochs its checkpoint restored.
          onReady: (_backend, _loadSeconds, restored) => write(() => store.restoreEpochs(runId, restored, lease)),
          onBatch: (epoch, batch, batches, loss) => reporter.trialBatch(trial, epoch, batch, batches, loss),
          onEpoch: (record) => {
            write(() => store.recordEpoch(runId, record, lease));
            reporter.trialEpoch(trial, record);
          },
        },
        AbortSignal.any([halt.signal, own.signal]),
      );
      trialStops.delete(runId);
      const stopReason = halt.signal.aborted ? String(halt.signal.reason) : own.signal.aborted ? String(own.signal.reason) : undefined;
      const ran = runOutcome(outcome, modelDirOf(runsDir, runId), stopReason);
      const reachedEnd = ran.result?.reachedEnd ?? true;
      if (ran.status === 'completed' && !reachedEnd) ran.record.epochBudget = untilEpoch;
      ran.record.attemptsNote = attemptNotes.get(runId);
      attemptNotes.delete(runId);
      const recorded = own.signal.aborted ? false : write(() => store.finishRun(runId, ran.record, lease), { recordsAnEnd: true });
      if (recorded === undefined) summary.unrecorded++;
      const finished = recorded ? ran : { ...ran, status: 'interrupted' as const, error: recorded === undefined ? 'not recorded: the run database failed' : LOST_LEASE };
      // A run this runner lost may be another's now, in the same folder: its files are not this runner's to touch.
      if (recorded !== false) keepWhatTheRunNeeds(runsDir, runId, finished.status, reachedEnd);
      counts[finished.status]++;
      reporter.trialFinished(trial, finished.status, finished.result, finished.error);
      search.ended(proposal, { status: finished.status, epochs: finished.result?.epochs ?? [], reachedEnd });
    };

    // A task that throws is a bug (or a file system failing outside SQLite): the other trials are stopped and recorded
    // first, then the error is raised, rather than crashing the runner with trials still running.
    let taskError: unknown;
    for (;;) {
      while (!halt.signal.aborted && running.size < executor.capacity) {
        const proposal = search.next();
        if (typeof proposal === 'string') break;
        const task: Promise<void> = train(proposal)
          .catch((error: unknown) => {
            taskError ??= error;
            halt.abort(`the runner failed: ${(error as Error).message}`);
          })
          .finally(() => running.delete(task));
        running.add(task);
      }
      if (running.size === 0) break;
      await Promise.race(running);
    }
    summary.searches = search.outcome();
    write(() => store.finishSweep(sweepId, summary.databaseFailure || taskError ? 'failed' : summary.interrupted ? 'interrupted' : 'finished'), { recordsAnEnd: true });
    if (taskError) throw taskError;
    return summary;
  } finally {
    clearInterval(heartbeat);
    stop.removeEventListener('abort', onStop);
    await opened?.close?.();
    store.close();
  }
}

/**
 * A completed run keeps its model, and its checkpoint while it may continue (paused at a rung); an interrupted one
 * keeps only its checkpoint (a killed trial may have left half a model); a failed or diverged one keeps nothing.
 */
function keepWhatTheRunNeeds(runsDir: string, runId: string, status: FinalStatus, reachedEnd: boolean): void {
  if (status === 'completed') {
    if (reachedEnd) removeCheckpoint(runsDir, runId);
  } else if (status === 'interrupted') removeUnfinishedModel(runsDir, runId);
  else removeRunFolder(runsDir, runId);
}

/**
 * Finds (or downloads) the dataset of every distinct `data.path` once in the parent and reads it, so that a missing
 * or damaged copy, or one smaller than a trial asks for, is a clear error before any trial starts; files of one sweep
 * may each name their own copy.
 */
async function findData(trials: TrialSpec[], dataDir: string | undefined): Promise<Map<string | undefined, DataLocation>> {
  const locations = new Map<string | undefined, DataLocation>();
  for (const experimentPath of new Set(trials.map((t) => t.config.data.path))) {
    const needs = trials.filter((t) => t.config.data.path === experimentPath).map((t) => ({ file: t.file, ...t.config.data }));
    locations.set(experimentPath, await checkedDataLocation({ experimentPath, dataDir }, needs));
  }
  return locations;
}
