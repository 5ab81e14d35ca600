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
import { ashaPlanLine, halvingEpochs, halvingTrainings, rungEpochs } from './search/rungs.js';

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
  /** Epochs this plan trains it for: train.epochs, or ASHA's first rung. */
  epochs: number;
  estimate?: Estimate;
}

/** What a search other than the grid would cost, against the grid of the same configs trained to the end. */
export interface PlannedSearch {
  file: string;
  strategy: 'random' | 'asha';
  /** Configs it tries (sampled, or the grid's under ASHA). */
  configs: number;
  /** Configs in the grid of the file's lists; undefined when a distribution has no finite grid. */
  gridConfigs?: number;
  /** Epochs it trains: every config to the end (random), or successive halving's count (ASHA). */
  epochs: number;
  /** Epochs of training every config it tries to the end. */
  fullEpochs: number;
  /** What ASHA will do, as the sweep says it (ashaPlanLine). */
  description?: string;
  /** Training time it should take, summed over trials, and the same for every config to the end; when measured. */
  seconds?: number;
  fullSeconds?: number;
}

export interface SweepPlanReport {
  backend: BackendChoice;
  concurrency: number;
  rows: PlannedRow[];
  searches: PlannedSearch[];
  /** Wall time of the trials that would run and have an estimate, `concurrency` at a time. */
  wallSeconds: number;
  /** Trials that would run without any measurement to estimate them from. */
  unmeasured: number;
}

/** `runner plan` and `sweep --dry-run`: what a sweep would run, each trial's size, and how long it should take. Trains nothing, creates no database. */
export async function planTrials(options: PlanOptions): Promise<SweepPlanReport> {
  const { searches: groups, backend: requested } = planSweep(options);
  const backend = await chooseBackend(options.backend ?? requested, { gpu: options.gpu });
  const concurrency = options.concurrency ?? defaultConcurrency(backend);
  const { timings, completed } = existsSync(options.dbPath) ? readHistory(options.dbPath) : { timings: [], completed: new Set<string>() };
  const costOf = memoizedCost();
  const measured = timings.flatMap((t) => measuredRun(t, costOf));
  const where = { backend: backend.name, device: backend.probe.adapter?.device };
  const estimate = (trial: TrialSpec, epochs: number) =>
    estimateDuration({ ...trial, config: { ...trial.config, train: { ...trial.config.train, epochs } }, macsPerSample: costOf(trial.config).macsPerSample }, measured, where);

  const rows: PlannedRow[] = [];
  const searches: PlannedSearch[] = [];
  // Durations of what would run, for the wall time: whole trials, and ASHA's trainings spread over its first-rung rows.
  const durations: number[] = [];
  for (const group of groups) {
    const { search: settings, trials } = group;
    const rungs = settings.strategy === 'asha' ? rungEpochs(settings.minEpochs, settings.maxEpochs, settings.reduction) : undefined;
    const groupRows = trials.map((trial): PlannedRow => {
      // ASHA trains every config to its first rung, then only the best further: what it will run is that first rung.
      const epochs = rungs ? rungs[0]! : trial.config.train.epochs;
      return { trial, label: trialLabel(trial), cost: costOf(trial.config), done: !options.force && completed.has(trial.hash), epochs, estimate: estimate(trial, epochs) };
    });
    rows.push(...groupRows);
    const todo = groupRows.filter((r) => !r.done);
    if (settings.strategy === 'grid') {
      durations.push(...todo.flatMap((r) => (r.estimate ? [r.estimate.seconds] : [])));
      continue;
    }
    const fullEpochs = trials.reduce((n, t) => n + t.config.train.epochs, 0);
    // Time is compared over every config of the search, as epochs are: what the search costs, not what is left of it.
    const full = groupRows.map((r) => estimate(r.trial, r.trial.config.train.epochs)?.seconds);
    const fullSeconds = full.every((x) => x !== undefined) && full.length ? full.reduce((a, b) => a! + b!, 0) : undefined;
    if (!rungs) {
      durations.push(...todo.flatMap((r) => (r.estimate ? [r.estimate.seconds] : [])));
      searches.push({ file: group.file, strategy: 'random', configs: trials.length, gridConfigs: group.gridConfigs, epochs: fullEpochs, fullEpochs, seconds: fullSeconds, fullSeconds });
      continue;
    }
    const { reduction, metric } = settings as Extract<typeof settings, { strategy: 'asha' }>;
    const epochs = halvingEpochs(trials.length, rungs, reduction);
    // A training costs a fixed part (process, backend, data, scoring) plus its epochs: both read off two estimates.
    const first = groupRows.map((r) => r.estimate?.seconds);
    let seconds: number | undefined;
    if (fullSeconds !== undefined && first.every((x) => x !== undefined)) {
      const firstSeconds = first.reduce((a, b) => a! + b!, 0)!;
      const perEpoch = (fullSeconds - firstSeconds) / Math.max(1, fullEpochs - rungs[0]! * trials.length);
      const fixed = (firstSeconds - perEpoch * rungs[0]! * trials.length) / trials.length;
      seconds = halvingTrainings(trials.length, rungs.length, reduction) * fixed + epochs * perEpoch;
      durations.push(...todo.map(() => seconds! / todo.length));
    }
    const description = ashaPlanLine(group.file, trials.length, rungs, reduction, metric);
    searches.push({ file: group.file, strategy: 'asha', configs: trials.length, gridConfigs: group.gridConfigs, epochs, fullEpochs, description, seconds, fullSeconds });
  }
  const todo = rows.filter((r) => !r.done);
  const estimated = todo.filter((r) => r.estimate).length;
  return { backend, concurrency, rows, searches, wallSeconds: wallTime(durations, concurrency), unmeasured: todo.length - estimated };
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
