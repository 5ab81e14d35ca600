import type { Augmentation, DataConfig, Experiment, Layer, OptimizerConfig, SearchConfig, SweepAxis, TrainConfig } from './experiment.types.js';

/**
 * An experiment with every default filled in and the sweep removed: what one trial runs.
 * Kept apart from `Experiment` (what the user wrote, mostly optional) so code past the loader never guesses defaults.
 */
export interface TrialConfig {
  name: string;
  description?: string;
  data: DataConfig & Required<Pick<DataConfig, 'dataset' | 'validation'>>;
  model: { input: number[]; layers: Layer[] };
  train: Required<Pick<TrainConfig, 'loss' | 'epochs' | 'batchSize' | 'seed'>> & {
    optimizer: OptimizerConfig & { name: NonNullable<OptimizerConfig['name']>; learningRate: number };
    earlyStopping?: TrainConfig['earlyStopping'];
  };
  augment: Augmentation[];
  /**
   * Only on a trial that ASHA schedules: how it is stopped and promoted between rungs. Part of the trial's identity,
   * so an ASHA trial never passes for a grid run of the same config; its `train.epochs` is the top rung's (maxEpochs),
   * so the epochs it reached are not.
   */
  search?: AshaTrialSearch;
}

/** The score that ranks ASHA's configs within a rung. */
export type AshaMetric = NonNullable<SearchConfig['metric']>;

/** What an ASHA trial carries of its search: the rest (trials, seed, maxEpochs as train.epochs) made it, and runs no differently. */
export interface AshaTrialSearch {
  strategy: 'asha';
  minEpochs: number;
  reduction: number;
  metric: AshaMetric;
}

/** A whole experiment file after validation and defaults, before its sweep is expanded. */
export interface ResolvedExperiment extends Omit<TrialConfig, 'search'> {
  backend: NonNullable<Experiment['backend']>;
  repeat: number;
  /** A list of values, or (under random sampling) a distribution, by sweep key. */
  sweep: Record<string, SweepAxis>;
  search: SearchSettings;
}

/**
 * The search section with every default filled, one shape per strategy (and, for asha, per source of candidates), so
 * that a strategy reads only the fields that apply to it. Written with the schema's field names, so that
 * `validate --print` prints a file that validates; `timeBudgetSeconds` (search.ts) reads the time budget.
 */
export type SearchSettings = GridSearch | RandomSearch | AshaSearch;

/** Stop starting new trials once this many have started, or once the sweep has run this long: for any strategy. */
export interface SearchLimits {
  maxTrials?: number;
  /** A duration as written (`90m`), checked by the loader. */
  timeBudget?: string;
}

/** Every combination of the sweep's lists: today's behaviour, and the default. */
export interface GridSearch extends SearchLimits {
  strategy: 'grid';
}

/** `trials` distinct configs drawn from the sweep's lists and distributions with a generator seeded by `seed`. */
export interface RandomSampling {
  trials: number;
  seed: number;
}

export interface RandomSearch extends SearchLimits, RandomSampling {
  strategy: 'random';
}

interface AshaSettings extends SearchLimits {
  strategy: 'asha';
  minEpochs: number;
  /** train.epochs unless the file gives it. */
  maxEpochs: number;
  reduction: number;
  metric: AshaMetric;
}

/** Asynchronous successive halving over the grid's configs, or over sampled ones. */
export type AshaSearch = (AshaSettings & { candidates: 'grid' }) | (AshaSettings & RandomSampling & { candidates: 'random' });
