import type { Augmentation, DataConfig, Experiment, Layer, OptimizerConfig, TrainConfig } from './experiment.types.js';

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
}

/** A whole experiment file after validation and defaults, before its sweep is expanded. */
export interface ResolvedExperiment extends TrialConfig {
  backend: NonNullable<Experiment['backend']>;
  repeat: number;
  sweep: Record<string, unknown[]>;
}
