import stableStringify from 'fast-json-stable-stringify';
import { existsSync } from 'node:fs';
import { chooseBackend, defaultConcurrency, type BackendChoice, type BackendRequest } from '../backend/select.js';
import type { Override } from '../config/load-experiment.js';
import type { SweepFlag } from '../config/sweep-flag.js';
import type { TrialConfig } from '../config/resolved.js';
import { gitInfo } from '../git.js';
import { RunStore, type RunTiming } from '../store/run-store.js';
import { estimateDuration, wallTime, type Estimate, type MeasuredRun } from './estimate.js';
import { modelCost, type ModelCost } from '../model/cost.js';
import { planSweep } from './checked-trials.js';
import { trialLabel, type TrialSpec } from './expand.js';

export interface PlanOptions {
  files: string[];
  overrides: Override[];
  sweeps: SweepFlag[];
  repeat?: number;
  maxTrials?: number;
  maxMemory?: number;
  backend?: BackendRequest;
  gpu?: string;
  concurrency?: number;
  force: boolean;
  dbPath: string;
}

export interface PlannedRow {
  trial: TrialSpec;
  label: string;
  cost: ModelCost;
  /** Completed on this branch already: `sweep` skips it (unless forced). */
  done: boolean;
  estimate?: Estimate;
}

export interface SweepPlanReport {
  backend: BackendChoice;
  concurrency: number;
  rows: PlannedRow[];
  /** Wall time of the trials that would run and have an estimate, `concurrency` at a time. */
  wallSeconds: number;
  /** Trials that would run without any measurement to estimate them from. */
  unmeasured: number;
}

/** `runner plan` and `sweep --dry-run`: what a sweep would run, each trial's size, and how long it should take. Trains nothing, creates no database. */
export async function planTrials(options: PlanOptions): Promise<SweepPlanReport> {
  const { trials, backend: requested } = planSweep(options);
  const backend = await chooseBackend(options.backend ?? requested, { gpu: options.gpu });
  const concurrency = options.concurrency ?? defaultConcurrency(backend);
  const { timings, completed } = existsSync(options.dbPath) ? readHistory(options.dbPath) : { timings: [], completed: new Set<string>() };
  const costOf = memoizedCost();
  const measured = timings.flatMap((t) => measuredRun(t, costOf));

  const rows = trials.map((trial): PlannedRow => {
    const cost = costOf(trial.config);
    const estimate = estimateDuration({ ...trial, macsPerSample: cost.macsPerSample }, measured, { backend: backend.name, device: backend.probe.adapter?.device });
    return { trial, label: trialLabel(trial), cost, done: !options.force && completed.has(trial.hash), estimate };
  });
  const todo = rows.filter((r) => !r.done);
  const estimated = todo.flatMap((r) => (r.estimate ? [r.estimate.seconds] : []));
  return { backend, concurrency, rows, wallSeconds: wallTime(estimated, concurrency), unmeasured: todo.length - estimated.length };
}

/** A plan only reads: no database yet means no history, and an existing one is opened read-only. */
function readHistory(dbPath: string): { timings: RunTiming[]; completed: Set<string> } {
  if (!existsSync(dbPath)) return { timings: [], completed: new Set() };
  const store = new RunStore(dbPath, { readonly: true });
  try {
    return { timings: store.runTimings(), completed: store.completedHashes(gitInfo().branch) };
  } catch (error) {
    throw store.asUserError(error);
  } finally {
    store.close();
  }
}

/** Models repeat across a grid (a swept learning rate keeps the model), so each is built once. */
function memoizedCost(): (config: TrialConfig) => ModelCost {
  const costs = new Map<string, ModelCost>();
  return (config) => {
    const key = stableStringify(config.model);
    let cost = costs.get(key);
    if (!cost) costs.set(key, (cost = modelCost(config)));
    return cost;
  };
}

function measuredRun(timing: RunTiming, costOf: (config: TrialConfig) => ModelCost): MeasuredRun[] {
  try {
    return [{ ...timing, macsPerSample: costOf(timing.config).macsPerSample }];
  } catch {
    // Recorded by another version of the runner, with a model this one cannot build: it cannot serve as a reference.
    return [];
  }
}
