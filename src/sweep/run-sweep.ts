import PQueue from 'p-queue';
import { join, relative } from 'node:path';
import { chooseBackend, defaultConcurrency, type BackendChoice, type BackendRequest } from '../backend/select.js';
import { loadExperiment, type Override } from '../config/load-experiment.js';
import type { SweepFlag } from '../config/sweep-flag.js';
import { loadDataset } from '../data/dataset.js';
import { locateDataset, type DataLocation } from '../data/locate.js';
import { UserError, type Problem } from '../errors.js';
import { gitInfo } from '../git.js';
import { shortKey } from '../ui/format.js';
import { RunStore } from '../store/run-store.js';
import { newRunId, removeRunFolder, runFolder } from '../store/run-folders.js';
import { checkedTrials } from './checked-trials.js';
import type { TrialSpec } from './expand.js';
import { runTrialProcess } from './trial-process.js';
import { runOutcome, type FinalStatus } from './trial-outcome.js';
export type { FinalStatus } from './trial-outcome.js';
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
  dbPath: string;
  dataDir?: string;
  runsDir: string;
  command: string;
}


export interface TrialLabel {
  runId: string;
  spec: TrialSpec;
  label: string;
}

/** What the sweep tells whoever is watching (the terminal UI); it never prints by itself. */
export interface SweepReporter {
  planned(info: { trials: number; skipped: number; backend: BackendChoice; concurrency: number; data: DataLocation[] }): void;
  trialStarted(trial: TrialLabel): void;
  trialBatch(trial: TrialLabel, epoch: number, batch: number, batches: number, loss: number): void;
  trialEpoch(trial: TrialLabel, record: EpochRecord): void;
  trialFinished(trial: TrialLabel, status: FinalStatus, result: TrialResult | undefined, error?: string): void;
  stopping(reason: string): void;
}

export interface SweepSummary {
  sweepId: number;
  counts: Record<FinalStatus, number>;
  skipped: number;
  notStarted: number;
  interrupted: boolean;
}

export interface SweepPlan {
  trials: TrialSpec[];
  /** The files' `backend` field when they all agree, else auto; the --backend flag wins over it. */
  backend: BackendRequest;
}

/** Validates every file first (nothing is written if any is bad) and expands each grid. */
export function planSweep(options: Pick<SweepOptions, 'files' | 'overrides' | 'sweeps' | 'repeat' | 'maxTrials'>): SweepPlan {
  const problems: Problem[] = [];
  const trials: TrialSpec[] = [];
  const backends = new Set<BackendRequest>();
  for (const file of options.files) {
    try {
      const loaded = loadExperiment(file, options.overrides, options.sweeps);
      backends.add(loaded.resolved.backend);
      trials.push(...checkedTrials(loaded, { repeat: options.repeat, maxTrials: options.maxTrials }).trials);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      problems.push(...(error.problems.length ? error.problems : [{ file, message: error.message }]));
    }
  }
  if (problems.length) throw new UserError(`${problems.length} problem${problems.length === 1 ? '' : 's'} in the experiment files; nothing was run`, problems);
  return { trials, backend: backends.size === 1 ? [...backends][0]! : 'auto' };
}

export async function runSweep(options: SweepOptions, reporter: SweepReporter, stop: AbortSignal): Promise<SweepSummary> {
  const plan = planSweep(options);
  const trials = plan.trials;
  const backend = await chooseBackend(options.backend ?? plan.backend, { gpu: options.gpu });
  const data = await findData(trials, options.dataDir);
  const concurrency = options.concurrency ?? defaultConcurrency(backend);

  const store = new RunStore(options.dbPath);
  try {
    // A dead runner's unfinished runs may have left a model directory, or half of one: nothing to keep.
    for (const id of store.recoverAbandoned(isAlive)) removeRunFolder(options.runsDir, id);
    const git = gitInfo();
    const done = options.force ? new Set<string>() : store.completedHashes(git.branch);
    const todo = trials.filter((t) => !done.has(t.hash));
    reporter.planned({ trials: todo.length, skipped: trials.length - todo.length, backend, concurrency, data: [...data.values()] });
    const counts: Record<FinalStatus, number> = { completed: 0, failed: 0, diverged: 0, interrupted: 0 };
    const summary = { counts, skipped: trials.length - todo.length, notStarted: 0, interrupted: false };
    // Stopped while choosing the backend or finding the data: nothing started, and the caller must hear so.
    if (stop.aborted) return { sweepId: 0, ...summary, interrupted: true, notStarted: todo.length };
    if (todo.length === 0) return { sweepId: 0, ...summary };

    const sweepId = store.startSweep(options.command);
    const queue = new PQueue({ concurrency });
    const onStop = () => {
      summary.interrupted = true;
      summary.notStarted = queue.size;
      queue.clear();
      reporter.stopping(`stopping: ${queue.pending} running trial${queue.pending === 1 ? '' : 's'} will be recorded as interrupted, ${summary.notStarted} not started`);
    };
    stop.addEventListener('abort', onStop, { once: true });

    for (const spec of todo) {
      void queue.add(async () => {
        if (stop.aborted) return;
        const trial: TrialLabel = { runId: newRunId(spec.hash), spec, label: trialLabel(spec) };
        const modelDir = join(runFolder(options.runsDir, trial.runId), 'model');
        const claimed = store.claimRun(
          {
            id: trial.runId,
            sweepId,
            experiment: spec.experiment,
            file: relative(process.cwd(), spec.file) || spec.file,
            config: spec.config,
            configHash: spec.hash,
            params: spec.params,
            seed: spec.config.train.seed,
            repeatIndex: spec.repeatIndex,
            git,
            backend: backend.name,
          },
          { force: options.force, isAlive },
        );
        if (!claimed) {
          // Another runner finished or is training this trial since the plan was made.
          summary.skipped++;
          return;
        }
        reporter.trialStarted(trial);
        const outcome = await runTrialProcess(
          { type: 'run', config: spec.config, backend: backend.name, gpu: options.gpu, data: data.get(spec.config.data.path)!, modelDir },
          {
            onBatch: (epoch, batch, batches, loss) => reporter.trialBatch(trial, epoch, batch, batches, loss),
            onEpoch: (record) => {
              store.recordEpoch(trial.runId, record);
              reporter.trialEpoch(trial, record);
            },
          },
          stop,
        );
        const finished = runOutcome(outcome, modelDir, stop.aborted);
        store.finishRun(trial.runId, finished.record);
        // Only a completed run keeps its weights; a killed worker may have left a half-saved model behind.
        if (finished.status !== 'completed') removeRunFolder(options.runsDir, trial.runId);
        counts[finished.status]++;
        reporter.trialFinished(trial, finished.status, finished.result, finished.error);
      });
    }
    await queue.onIdle();
    stop.removeEventListener('abort', onStop);
    store.finishSweep(sweepId, summary.interrupted ? 'interrupted' : 'finished');
    return { sweepId, ...summary };
  } finally {
    store.close();
  }
}

/**
 * Finds (or downloads) the dataset of every distinct `data.path` once in the parent, so that a missing copy is
 * a clear error before any trial starts; files of one sweep may each name their own copy.
 */
async function findData(trials: TrialSpec[], dataDir: string | undefined): Promise<Map<string | undefined, DataLocation>> {
  const locations = new Map<string | undefined, DataLocation>();
  for (const experimentPath of new Set(trials.map((t) => t.config.data.path))) {
    const found = locateDataset({ experimentPath, dataDir });
    locations.set(experimentPath, found && !('missingExplicit' in found) ? found : (await loadDataset({ experimentPath, dataDir })).location);
  }
  return locations;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function trialLabel(spec: TrialSpec): string {
  const params = Object.entries(spec.params).map(([k, v]) => `${shortKey(k)}=${JSON.stringify(v)}`);
  return params.length ? `${spec.experiment} ${params.join(' ')}` : spec.experiment;
}
