/** The epoch scores a trial is judged by: early stopping's `monitor`, ASHA's `metric`. */
export type EpochMetric = 'loss' | 'accuracy' | 'valLoss' | 'valAccuracy';

/** Accuracies improve upwards, losses downwards. */
export function higherIsBetter(metric: EpochMetric): boolean {
  return metric === 'accuracy' || metric === 'valAccuracy';
}
