import { join } from 'node:path';
import { loadExperiment } from '../src/config/load-experiment.js';
import type { TrialConfig } from '../src/config/resolved.js';
import { packageRoot } from '../src/package-root.js';
import { expandTrials } from '../src/sweep/expand.js';

/** The benchmark model: experiments/seed-cnn.yaml (conv32-pool-conv64-pool-dense128-dense10, adam, batch 32), the same as the PyTorch peer's. */
export function seedCnnConfig(samples: number, epochs = 1, batchSize = 32): TrialConfig {
  const [trial] = expandTrials(loadExperiment(join(packageRoot, 'experiments', 'seed-cnn.yaml')));
  const config = trial!.config;
  return { ...config, data: { ...config.data, trainLimit: samples, testLimit: 200 }, train: { ...config.train, epochs, batchSize } };
}
