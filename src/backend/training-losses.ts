import type * as tf from '@tensorflow/tfjs';

/** A per-sample training loss, as tfjs-layers compiles one: (targets, predictions) → one value per sample. */
export type LossFunction = (targets: tf.Tensor, predictions: tf.Tensor) => tf.Tensor;

/**
 * A backend's own versions of tfjs-layers' losses (same numbers, fewer kernels), by the experiment format's loss
 * name; each wraps the stock function, which it falls back to where it does not apply.
 */
export type TrainingLosses = Partial<Record<'categoricalCrossentropy' | 'sparseCategoricalCrossentropy', (stock: LossFunction) => LossFunction>>;
