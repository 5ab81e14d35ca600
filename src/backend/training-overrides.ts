import type * as tf from '@tensorflow/tfjs';

/** A per-sample training loss, as tfjs-layers compiles one: (targets, predictions) → one value per sample. */
export type LossFunction = (targets: tf.Tensor, predictions: tf.Tensor) => tf.Tensor;

/**
 * A backend's own versions of tfjs-layers' losses (same numbers, fewer kernels), by the experiment format's loss
 * name; each wraps the stock function, which it falls back to where it does not apply.
 */
export type TrainingLosses = Partial<Record<'categoricalCrossentropy' | 'sparseCategoricalCrossentropy', (stock: LossFunction) => LossFunction>>;

/**
 * The running totals of a training epoch, [summed loss, correct predictions], with one batch added: its per-sample
 * losses, its predictions [n, classes] and its targets (class indices [n], or rows [n, classes]).
 */
export type AddTotals = (totals: tf.Tensor, perSample: tf.Tensor, predictions: tf.Tensor, targets: tf.Tensor) => tf.Tensor;

/** Makes a float32 tensor of `shape` from values on the CPU: how a backend takes in each batch. */
export type UploadTensor = (values: Float32Array, shape: number[]) => tf.Tensor;

/** Targets as one-hot rows [n, classes] (dense losses) or class indices [n] (sparse crossentropy). */
export type Targets = 'oneHot' | 'sparse';

/**
 * A labelled image set held on the device, so that a batch is gathered there from its sample indices instead of
 * being gathered and scaled on the CPU and uploaded. Pixels come out as the CPU path makes them (each byte / 255,
 * rounded to float32), targets as one-hot rows [n, classes] or class indices [n].
 */
export interface ResidentImages {
  inputs(indices: ArrayLike<number>, inputShape: readonly number[]): tf.Tensor;
  labelled(indices: ArrayLike<number>, inputShape: readonly number[], targets: Targets): { x: tf.Tensor; y: tf.Tensor };
}
