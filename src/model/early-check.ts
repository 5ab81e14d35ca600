import { formatPath } from '../config/document-path.js';
import { InvalidExperiment, loadExperiment, type LoadedExperiment, type Override } from '../config/load-experiment.js';
import type { ExperimentSources } from '../config/sources.js';
import type { SweepFlag } from '../config/sweep-flag.js';
import { UserError, type Problem } from '../errors.js';
import { problemsIn } from '../ui/problems.js';
import { checkModel, type ModelProblem } from './checks.js';

/**
 * loadExperiment, and for a file that fails, its model built shape-only all the same: one run of `validate` (or a
 * refused sweep) reports every problem. The model of a file that loads is checked with its trials (checkedTrials).
 */
export function loadExperimentWithModelChecks(file: string, overrides: readonly Override[] = [], sweeps: readonly SweepFlag[] = []): LoadedExperiment {
  try {
    return loadExperiment(file, overrides, sweeps);
  } catch (error) {
    if (!(error instanceof InvalidExperiment) || !error.modelOnly) throw error;
    const { sources } = error;
    const problems = sources.sort([...error.problems, ...checkModel(error.modelOnly).problems.map((p) => modelProblemAt(sources, p))]);
    throw new UserError(problemsIn(file, problems), problems);
  }
}

/** A model problem at the line of the layer (or field) that causes it. */
export function modelProblemAt(sources: ExperimentSources, problem: ModelProblem): Problem {
  return sources.problem(problem.segments, { path: formatPath(problem.segments), message: problem.message, hint: problem.hint });
}
