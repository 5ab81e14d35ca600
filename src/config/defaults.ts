import { dirname, resolve as resolvePath } from 'node:path';
import type { Experiment } from './experiment.types.js';
import type { ResolvedExperiment } from './resolved.js';
import { fillSchemaDefaults } from './schema.js';

/** Keras's default learning rate of each optimizer, used when the file gives none. */
const DEFAULT_LEARNING_RATE: Record<string, number> = { sgd: 0.01, adam: 0.001, rmsprop: 0.001, adagrad: 0.01, adadelta: 1.0, adamax: 0.002 };

/**
 * A schema-valid experiment with every default filled in, so that code past the loader never guesses one.
 * `dataPathFile`: the file that wrote `data.path`, which is relative to it.
 */
export function resolveDefaults(written: Experiment, dataPathFile: string): ResolvedExperiment {
  const config = structuredClone(written) as Experiment & Record<string, unknown>;
  config.data ??= {};
  config.train ??= {};
  config.train.optimizer ??= { name: 'adam' };
  config.model!.input ??= [28, 28, 1];
  fillSchemaDefaults(config);
  const optimizer = config.train.optimizer!;
  optimizer.learningRate ??= DEFAULT_LEARNING_RATE[optimizer.name ?? 'adam'];
  if (config.data.path) config.data.path = resolvePath(dirname(dataPathFile), config.data.path);
  return { ...config, sweep: config.sweep ?? {} } as ResolvedExperiment;
}
