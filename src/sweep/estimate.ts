import type { TrialConfig } from '../config/resolved.js';
import type { TrialSpec } from './expand.js';

export interface Timing {
  experiment: string;
  configHash: string;
  config: string;
  backend: string | null;
  secondsPerEpoch: number;
}

export interface Estimate {
  seconds: number;
  /** What the figure rests on: the same config measured before, or the experiment's throughput. */
  basis: 'same config' | 'same experiment';
}

/** Training samples one epoch sees (trainLimit, minus a held-out validation fraction). */
export function samplesPerEpoch(config: TrialConfig): number {
  const train = config.data.trainLimit ?? 60000;
  return typeof config.data.validation === 'number' ? Math.round(train * (1 - config.data.validation)) : train;
}

/**
 * A trial's duration from measured throughput only: the same config's epoch time, else the same
 * experiment's samples per second scaled to this trial's data. No measurement, no estimate.
 */
export function estimateDuration(trial: TrialSpec, timings: Timing[], backend: string): Estimate | undefined {
  const onBackend = timings.filter((t) => t.backend === backend);
  const same = onBackend.filter((t) => t.configHash === trial.hash);
  if (same.length) return { seconds: mean(same.map((t) => t.secondsPerEpoch)) * trial.config.train.epochs, basis: 'same config' };
  const sibling = onBackend.filter((t) => t.experiment === trial.experiment);
  if (!sibling.length) return undefined;
  const throughput = mean(sibling.map((t) => samplesPerEpoch(JSON.parse(t.config) as TrialConfig) / t.secondsPerEpoch));
  return { seconds: (samplesPerEpoch(trial.config) / throughput) * trial.config.train.epochs, basis: 'same experiment' };
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
