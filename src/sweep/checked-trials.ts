import stableStringify from 'fast-json-stable-stringify';
import prettyBytes from 'pretty-bytes';
import type { BackendRequest } from '../backend/select.js';
import type { Segments } from '../config/config-path.js';
import { formatPath } from '../config/document-path.js';
import type { LoadedExperiment, Override } from '../config/load-experiment.js';
import type { SearchSettings, TrialConfig } from '../config/resolved.js';
import { show } from '../config/schema-messages.js';
import type { SweepFlag } from '../config/sweep-flag.js';
import { UserError, type Problem } from '../errors.js';
import { checkModel, type LayerSummary, type ModelProblem } from '../model/checks.js';
import { DEFAULT_MAX_MEMORY, trainingMemory, type MemoryEstimate } from '../model/cost.js';
import { loadExperimentWithModelChecks, modelProblemAt } from '../model/early-check.js';
import { formatParam, plural } from '../ui/format.js';
import { problemsIn } from '../ui/problems.js';
import { expandTrials, type TrialSpec } from './expand.js';

export interface CheckedTrials {
  trials: TrialSpec[];
  /** Layer tables of each distinct model, for `validate --summary`. */
  summaries: { label: string; layers: LayerSummary[] }[];
}

export interface TrialLimits {
  repeat?: number;
  maxTrials?: number;
  /** Bytes one trial may use at its peak (see trainingMemory); DEFAULT_MAX_MEMORY when absent. */
  maxMemory?: number;
}

/**
 * Expands the grid and builds every distinct model shape-only, before anything trains: once per model, however many
 * trials share it. A problem of the file's own model is reported at its layer; one that only some sweep values
 * cause, at those values. So is a trial whose estimated memory passes the limit.
 */
export function checkedTrials(loaded: LoadedExperiment, options: TrialLimits = {}): CheckedTrials {
  const { sources, file } = loaded;
  const maxMemory = options.maxMemory ?? DEFAULT_MAX_MEMORY;
  const { sweep: _sweep, repeat: _repeat, backend: _backend, ...base } = loaded.resolved;
  const baseCheck = checkModel(base as TrialConfig, { maxMemory });
  const problems: Problem[] = baseCheck.problems.map((p) => modelProblemAt(sources, p));
  let trials: TrialSpec[];
  try {
    trials = expandTrials(loaded, options);
  } catch (error) {
    // A grid over the limit is not expanded, but the file's own model is still worth reporting on.
    if (!(error instanceof UserError)) throw error;
    throw new UserError(error.message, [...error.problems, ...problems]);
  }
  const summaries = [{ label: loaded.resolved.name, layers: baseCheck.summary }];
  const shapesShown = new Set([JSON.stringify(baseCheck.summary)]);

  const checks = new Map([[modelKey(base as TrialConfig), baseCheck]]);
  const reported = new Set(baseCheck.problems.map((p) => p.message));
  const memoryChecked = new Set<string>();
  for (const trial of trials) {
    const key = modelKey(trial.config);
    const causes = Object.entries(trial.params).filter(([k]) => k.startsWith('model.') || k === 'train.loss');
    const at = (cause: [string, unknown] | undefined, segments: Segments, message: string, hint?: string): Problem => {
      const [causeKey, value] = cause ?? [];
      // A value drawn from a distribution is placed at the distribution.
      const axis = causeKey ? loaded.resolved.sweep[causeKey] : undefined;
      const index = Array.isArray(axis) ? [axis.findIndex((v) => stableStringify(v) === stableStringify(value))] : [];
      return sources.problem(causeKey ? ['sweep', causeKey, ...index] : segments, {
        path: causeKey ? `sweep.${causeKey}` : formatPath(segments),
        message: causeKey ? `with ${causeKey} = ${show(value)}: ${message} (${formatPath(segments)})` : message,
        hint,
      });
    };
    let check = checks.get(key);
    if (!check) {
      check = checkModel(trial.config, { maxMemory });
      checks.set(key, check);
      // Only models whose shapes differ get a table of their own (a swept dropout rate does not).
      const shapes = JSON.stringify(check.summary);
      if (check.problems.length === 0 && !shapesShown.has(shapes)) {
        shapesShown.add(shapes);
        summaries.push({ label: `${trial.experiment} ${causes.map(([k, v]) => `${k}=${formatParam(v)}`).join(' ')}`, layers: check.summary });
      }
      for (const problem of check.problems) {
        if (reported.has(problem.message)) continue;
        reported.add(problem.message);
        problems.push(at(causes[0], problem.segments, problem.message, problem.hint));
      }
    }
    if (check.problems.length) continue;
    // Memory also grows with the batch and the optimizer's slots: checked once per model, batch and optimizer.
    const memoryKey = `${key}|${trial.config.train.batchSize}|${trial.config.train.optimizer.name}|${Boolean(trial.config.train.optimizer.momentum)}`;
    if (memoryChecked.has(memoryKey)) continue;
    memoryChecked.add(memoryKey);
    const memory = trainingMemory(trial.config, check.summary);
    if (memory.bytes > maxMemory) {
      const cause = Object.entries(trial.params).find(([k]) => k.startsWith('model.') || k.startsWith('train.batchSize') || k.startsWith('train.optimizer'));
      const problem = memoryProblem(memory, maxMemory, trial.config, check.summary);
      if (reported.has(problem.message)) continue;
      reported.add(problem.message);
      problems.push(at(cause, problem.segments, problem.message, problem.hint));
    }
  }
  if (problems.length) throw new UserError(problemsIn(file, problems), problems);
  return { trials, summaries };
}

/** At the layer with the most weights when they take most of the memory, else at the batch size. */
function memoryProblem(memory: MemoryEstimate, maxMemory: number, config: TrialConfig, layers: LayerSummary[]): ModelProblem {
  const gib = (bytes: number) => prettyBytes(bytes, { binary: true });
  const weightBytes = 4 * memory.weights * memory.perWeight;
  const activationBytes = 4 * memory.activationsPerSample * memory.samplesHeld;
  const largest = layers.reduce((a, b) => (b.parameters > a.parameters ? b : a), layers[0]!);
  const segments: Segments = weightBytes >= activationBytes ? ['model', 'layers', largest.index] : ['train', 'batchSize'];
  return {
    segments,
    message:
      `a trial of this model needs about ${gib(memory.bytes)}, over the memory limit of ${gib(maxMemory)} per trial: ` +
      `${memory.weights.toLocaleString('en-US')} weights × ${memory.perWeight} values (weight, gradient, ${config.train.optimizer.name}'s slots) = ${gib(weightBytes)}, ` +
      `and ${memory.activationsPerSample.toLocaleString('en-US')} activations per sample × ${memory.samplesHeld} samples = ${gib(activationBytes)}`,
    hint: weightBytes >= activationBytes
      ? `shrink the largest layers (${largest.name} has ${largest.parameters.toLocaleString('en-US')} weights), or raise the limit with --max-memory if the machine has the memory`
      : 'use a smaller batchSize or smaller layer outputs, or raise the limit with --max-memory if the machine has the memory',
  };
}

/** What `runner validate` does to one file; a UserError carries every problem found. */
export function validateExperimentFile(file: string, overrides: readonly Override[] = [], options: TrialLimits & { sweeps?: readonly SweepFlag[] } = {}): CheckedTrials & { loaded: LoadedExperiment } {
  const loaded = loadExperimentWithModelChecks(file, overrides, options.sweeps);
  return { loaded, ...checkedTrials(loaded, options) };
}

/** One file's trials and how to search them. */
export interface SearchGroup {
  file: string;
  search: SearchSettings;
  trials: TrialSpec[];
  /** Configs in the grid of the file's sweep lists; undefined when a distribution has no finite grid. */
  gridConfigs?: number;
}

export interface SweepPlan {
  /** Every distinct trial of the sweep, file by file. */
  trials: TrialSpec[];
  searches: SearchGroup[];
  /** The files' `backend` field when they all agree, else auto; the --backend flag wins over it. */
  backend: BackendRequest;
}

/** Validates every file first (nothing is written if any is bad) and expands each grid. */
export function planSweep(options: { files: string[]; overrides: Override[]; sweeps?: SweepFlag[] } & TrialLimits): SweepPlan {
  const problems: Problem[] = [];
  const searches: SearchGroup[] = [];
  const backends = new Set<BackendRequest>();
  // One trial reached twice (a file given twice, or two files that resolve to one config) is trained once.
  const seen = new Set<string>();
  for (const file of options.files) {
    try {
      const loaded = loadExperimentWithModelChecks(file, options.overrides, options.sweeps);
      backends.add(loaded.resolved.backend);
      const { trials } = checkedTrials(loaded, { repeat: options.repeat, maxTrials: options.maxTrials, maxMemory: options.maxMemory });
      const axes = Object.values(loaded.resolved.sweep);
      const gridConfigs = axes.every(Array.isArray) ? axes.reduce((n, values) => n * (values as unknown[]).length, 1) : undefined;
      searches.push({ file, search: loaded.resolved.search, trials: trials.filter((trial) => !seen.has(trial.hash) && seen.add(trial.hash)), gridConfigs });
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      problems.push(...(error.problems.length ? error.problems : [{ file, message: error.message }]));
    }
  }
  if (problems.length) throw new UserError(`${plural(problems.length, 'problem')} in the experiment files; nothing was run`, problems);
  return { trials: searches.flatMap((s) => s.trials), searches, backend: backends.size === 1 ? [...backends][0]! : 'auto' };
}

function modelKey(config: TrialConfig): string {
  return stableStringify({ model: config.model, loss: config.train.loss });
}
