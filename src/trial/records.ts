/**
 * What a trial reports and the run database keeps: plain data, no code, so that the store and the reports can
 * import these shapes without importing the trainer.
 */
export interface EpochRecord {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
  /** The whole epoch: training and validation. */
  seconds: number;
  /** The validation part of `seconds`, kept apart because it scales with the validation set, not the training set. */
  validationSeconds: number;
}

/** Precision, recall and F1 of one class, from a confusion matrix (rows: true, columns: predicted). */
export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** The most mistakes a trial keeps: the first few in set order fill the error gallery. */
export const MAX_MISTAKES = 48;

/** A misclassified test image, for the error gallery. */
export interface Mistake {
  index: number;
  label: number;
  predicted: number;
  confidence: number;
}
