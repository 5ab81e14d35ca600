import type { Problem } from '../errors.js';
import { isAtOrBelow } from './config-path.js';
import { resolveDefaults } from './defaults.js';
import { formatPath } from './document-path.js';
import type { Experiment } from './experiment.types.js';
import { checkModel, type ModelProblem } from './model-checks.js';
import type { SchemaMessage } from './schema-messages.js';
import type { ExperimentSources } from './sources.js';

/**
 * The model of a file that fails elsewhere (a typo in train.epochs, a bad sweep path) is still built shape-only, so
 * that one run of `validate` reports every problem. Skipped when the model or the loss has schema problems of its
 * own: its checks would only repeat them in other words.
 */
export function modelProblemsDespite(written: Experiment, messages: SchemaMessage[], sources: ExperimentSources): Problem[] {
  const touchesModel = (target: (string | number)[]) =>
    target.length === 0 || target[0] === 'model' || (target[0] === 'train' && (target.length === 1 || target[1] === 'loss'));
  if (!written.model || messages.some((m) => touchesModel(m.target))) return [];
  const loss = written.train?.loss;
  const seed = messages.some((m) => isAtOrBelow(m.target, ['train', 'seed'])) ? undefined : written.train?.seed;
  const modelOnly: Experiment = { name: written.name ?? 'experiment', model: written.model, train: { ...(loss && { loss }), ...(seed !== undefined && { seed }) } };
  return checkModel(resolveDefaults(modelOnly, sources.file)).problems.map((p) => modelProblemAt(sources, p));
}

/** A model problem at the line of the layer (or field) that causes it. */
export function modelProblemAt(sources: ExperimentSources, problem: ModelProblem): Problem {
  return sources.problem(problem.segments, { path: formatPath(problem.segments), message: problem.message, hint: problem.hint });
}
