import * as tf from '@tensorflow/tfjs';
import { trainingLoss } from '../backend/select.js';
import type { LossFunction } from '../backend/training-losses.js';
import type { TrialConfig } from '../config/resolved.js';

/**
 * One optimizer step per batch, with the batch's summed loss and correct predictions added to running totals
 * that stay on the device. Nothing is read back per step: on a GPU a readback waits for the whole queue, which
 * cost more than the step itself (README, GPU section). The totals are read every few batches instead.
 */
export class TrainStep {
  private loss: tf.Scalar = tf.keep(tf.scalar(0));
  private correct: tf.Scalar = tf.keep(tf.scalar(0));
  private readonly lossFunction: LossFunction;
  private readonly optimizer: tf.Optimizer;
  private readonly variables: tf.Variable[];

  private readonly sparseTargets: boolean;

  /**
   * `model` must be compiled with the loss `lossName`: its optimizer and loss are the ones trainOnBatch would use,
   * the loss in the active backend's own version where it has one.
   */
  constructor(
    private readonly model: tf.LayersModel,
    lossName: TrialConfig['train']['loss'],
  ) {
    // A Sequential compiles the functional model it wraps.
    type Compiled = { lossFunctions?: LossFunction[]; model?: Compiled };
    const compiled = model as unknown as Compiled;
    const lossFunction = (compiled.model ?? compiled).lossFunctions?.[0];
    if (!model.optimizer || !lossFunction) throw new Error('TrainStep needs a compiled model');
    this.lossFunction = trainingLoss(lossName, lossFunction);
    this.sparseTargets = lossName === 'sparseCategoricalCrossentropy';
    this.optimizer = model.optimizer;
    this.variables = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  }

  run(x: tf.Tensor, y: tf.Tensor): void {
    tf.tidy(() => {
      let batchLoss: tf.Scalar | undefined;
      let batchCorrect: tf.Scalar | undefined;
      this.optimizer.minimize(
        () => {
          const predictions = this.model.apply(x, { training: true }) as tf.Tensor;
          const perSample = this.lossFunction(y, predictions);
          const labels = this.sparseTargets ? y.toInt() : y.argMax(-1);
          // Kept past minimize's own tidy, which would otherwise dispose them with the forward pass.
          batchLoss = tf.keep(perSample.sum() as tf.Scalar);
          batchCorrect = tf.keep(predictions.argMax(-1).equal(labels).sum().toFloat() as tf.Scalar);
          return perSample.mean() as tf.Scalar;
        },
        false,
        this.variables,
      );
      this.loss = this.swap(this.loss, this.loss.add(batchLoss!));
      this.correct = this.swap(this.correct, this.correct.add(batchCorrect!));
      batchLoss!.dispose();
      batchCorrect!.dispose();
    });
  }

  /** Starts reading the totals so far; the promise settles once the device has caught up. */
  read(): Promise<{ loss: number; correct: number }> {
    const both = tf.tidy(() => tf.stack([this.loss, this.correct]));
    return both.data().then((values) => {
      both.dispose();
      return { loss: values[0]!, correct: values[1]! };
    });
  }

  reset(): void {
    this.loss = this.swap(this.loss, tf.scalar(0));
    this.correct = this.swap(this.correct, tf.scalar(0));
  }

  dispose(): void {
    this.loss.dispose();
    this.correct.dispose();
  }

  private swap(old: tf.Scalar, next: tf.Scalar): tf.Scalar {
    tf.keep(next);
    old.dispose();
    return next;
  }
}
