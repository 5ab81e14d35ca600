import { dirname, resolve as resolvePath } from 'node:path';
import { IMAGE_SIZE } from '../data/classes.js';
import type { Experiment } from './experiment.types.js';
import type { ResolvedExperiment, TrialConfig } from './resolved.js';
import { fillSchemaDefaults } from './schema.js';
import { resolveSearch } from './search.js';

/** Keras's default learning rate of each optimizer, used when the file gives none. */
const DEFAULT_LEARNING_RATE: Record<string, number> = { sgd: 0.01, adam: 0.001, rmsprop: 0.001, adagrad: 0.01, adadelta: 1.0, adamax: 0.002 };

/**
 * A schema-valid experiment with every default filled in, so that code past the loader never guesses one.
 * `dataPathFile`: the file that wrote `data.path`, which is relative to it.
 */
export function resolveDefaults(written: Experiment, dataPathFile: string): ResolvedExperiment {
  const config = structuredClone(written);
  // An empty section takes the schema's defaults like a written one: a grid.
  config.search ??= {};
  fillDefaults(config, dataPathFile);
  return { ...config, sweep: config.sweep ?? {}, search: resolveSearch(config.search, config.train!.epochs!) } as ResolvedExperiment;
}

/**
 * One trial of a sweep, from the experiment with this trial's sweep values written in (and no sweep): its defaults
 * follow its own values, such as the learning rate of a swept optimizer. Fills `trial` in place. The search section
 * chose the trial and is no part of it: only expandTrials adds what an ASHA trial needs.
 */
export function resolveTrial(trial: Experiment, dataPathFile: string): TrialConfig {
  fillDefaults(trial, dataPathFile);
  const { sweep: _sweep, repeat: _repeat, backend: _backend, search: _search, ...config } = trial;
  return config as TrialConfig;
}

function fillDefaults(config: Experiment, dataPathFile: string): void {
  config.data ??= {};
  config.train ??= {};
  config.train.optimizer ??= { name: 'adam' };
  config.model!.input ??= [IMAGE_SIZE, IMAGE_SIZE, 1];
  fillSchemaDefaults(config);
  const optimizer = config.train.optimizer;
  optimizer.learningRate ??= DEFAULT_LEARNING_RATE[optimizer.name ?? 'adam'];
  if (config.data.path) config.data.path = resolvePath(dirname(dataPathFile), config.data.path);
}
