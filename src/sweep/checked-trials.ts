import stableStringify from 'fast-json-stable-stringify';
import { formatPath } from '../config/document-path.js';
import { modelProblemAt } from '../config/early-model-check.js';
import { loadExperiment, type LoadedExperiment, type Override } from '../config/load-experiment.js';
import { checkModel, type LayerSummary } from '../config/model-checks.js';
import type { TrialConfig } from '../config/resolved.js';
import { UserError, type Problem } from '../errors.js';
import { expandTrials, type TrialSpec } from './expand.js';

export interface CheckedTrials {
  trials: TrialSpec[];
  /** Layer tables of each distinct model, for `validate --summary`. */
  summaries: { label: string; layers: LayerSummary[] }[];
}

/**
 * Expands the grid and builds every distinct model shape-only, before anything trains. A problem of the
 * file's own model is reported at its layer; one that only some sweep values cause, at those values.
 */
export function checkedTrials(loaded: LoadedExperiment, options: { repeat?: number; maxTrials?: number } = {}): CheckedTrials {
  const { sources, file } = loaded;
  const { sweep: _sweep, repeat: _repeat, backend: _backend, ...base } = loaded.resolved;
  const baseCheck = checkModel(base as TrialConfig);
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

  const seen = new Set([modelKey(base as TrialConfig)]);
  const reported = new Set(baseCheck.problems.map((p) => p.message));
  for (const trial of trials) {
    const key = modelKey(trial.config);
    if (seen.has(key)) continue;
    seen.add(key);
    const check = checkModel(trial.config);
    const causes = Object.entries(trial.params).filter(([k]) => k.startsWith('model.') || k === 'train.loss');
    if (check.problems.length === 0) {
      // Only models whose shapes differ get a table of their own (a swept dropout rate does not).
      const shapes = JSON.stringify(check.summary);
      if (!summaries.some((s) => JSON.stringify(s.layers) === shapes)) {
        summaries.push({ label: `${trial.experiment} ${causes.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}`, layers: check.summary });
      }
      continue;
    }
    for (const problem of check.problems) {
      if (reported.has(problem.message)) continue;
      reported.add(problem.message);
      const [key0, value] = causes[0] ?? [];
      const values = key0 ? (loaded.resolved.sweep[key0] ?? []) : [];
      const segments = key0 ? ['sweep', key0, values.findIndex((v) => stableStringify(v) === stableStringify(value))] : problem.segments;
      problems.push(
        sources.problem(segments, {
          path: key0 ? `sweep.${key0}` : formatPath(problem.segments),
          message: key0 ? `with ${key0} = ${JSON.stringify(value)}: ${problem.message} (${formatPath(problem.segments)})` : problem.message,
          hint: problem.hint,
        }),
      );
    }
  }
  if (problems.length) throw new UserError(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`, problems);
  return { trials, summaries };
}

/** What `runner validate` does to one file; a UserError carries every problem found. */
export function validateExperimentFile(file: string, overrides: readonly Override[] = [], options: { maxTrials?: number } = {}): CheckedTrials {
  return checkedTrials(loadExperiment(file, overrides), options);
}

function modelKey(config: TrialConfig): string {
  return stableStringify({ model: config.model, loss: config.train.loss });
}
