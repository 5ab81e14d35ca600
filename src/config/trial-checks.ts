import { plural } from '../ui/format.js';
import type { Segments } from './config-path.js';
import type { TrialConfig } from './resolved.js';

/** A problem of a config found across its fields, at the path it concerns. */
export interface FieldProblem {
  segments: Segments;
  message: string;
  hint?: string;
}

/** Checks of one trial's resolved config that the schema cannot express: they need more than one field. */
export function trialConfigProblems(config: TrialConfig): FieldProblem[] {
  return [...duplicateLayerNames(config.model.layers), ...emptyTrainingSet(config)];
}

/** Layer names address layers in sweep paths, so each may be used once. */
export function duplicateLayerNames(layers: unknown): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const seen = new Map<string, number>();
  (Array.isArray(layers) ? (layers as unknown[]) : []).forEach((layer, index) => {
    const name = layer && typeof layer === 'object' ? (layer as { name?: unknown }).name : undefined;
    if (typeof name !== 'string') return;
    const first = seen.get(name);
    if (first === undefined) seen.set(name, index);
    else problems.push({ segments: ['model', 'layers', index, 'name'], message: `layer name \`${name}\` is already used by model.layers[${first}]`, hint: 'layer names must be unique so that sweep paths can address them' });
  });
  return problems;
}

/** Training images held out for per-epoch scores with `validation: <fraction>`: at least one, so that there is a score. */
export function heldOutCount(count: number, fraction: number): number {
  return Math.max(1, Math.round(count * fraction));
}

/** A trial that would train on no image at all: its run would "complete" having learnt nothing. */
function emptyTrainingSet(config: TrialConfig): FieldProblem[] {
  const { trainLimit, validation } = config.data;
  if (trainLimit === undefined || validation === 'test') return [];
  const held = heldOutCount(trainLimit, validation);
  if (trainLimit - held >= 1) return [];
  let enough = trainLimit + 1;
  while (enough - heldOutCount(enough, validation) < 1) enough++;
  return [
    {
      segments: ['data', 'trainLimit'],
      message: `data.trainLimit ${trainLimit} with validation ${validation} holds out ${plural(held, 'image')} for validation and leaves none to train on`,
      hint: `raise data.trainLimit to ${enough} or more, or score on the test set with validation: test`,
    },
  ];
}
