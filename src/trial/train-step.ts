import * as tf from '@tensorflow/tfjs';
import { trainingLoss, trainingTotals } from '../backend/select.js';
import type { AddTotals, LossFunction } from '../backend/training-overrides.js';
import type { TrialConfig } from '../config/resolved.js';

/**
 * One optimizer step per batch, with the batch's summed loss and correct predictions added to running totals
 * that stay on the device. Nothing is read back per step: on a GPU a readback waits for the whole queue, which
 * cost more than the step itself (README, GPU section). The totals are read every few batches instead.
 */
export class TrainStep {
  /** [summed loss, correct predictions] of the batches since the last reset. */
  private totals: tf.Tensor = tf.keep(tf.zeros([2]));
  private readonly lossFunction: LossFunction;
  private readonly addTotals: AddTotals;
  private readonly optimizer: tf.Optimizer;
  private readonly variables: tf.Variable[];
  /**
   * The gradient's seed (dloss/dloss = 1), and per batch shape the mean's gradient (1/n per sample), made on the
   * device once. tfjs makes both on the CPU every step (`ones`), and each upload of a CPU value creates and destroys
   * a buffer on webgpu: about 0.6 ms a step on an H100.
   */
  private readonly seed = tf.keep(tf.scalar(1));
  private readonly meanGradients = new Map<string, tf.Tensor>();

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
    this.addTotals = trainingTotals(stockAddTotals);
    this.optimizer = model.optimizer;
    this.variables = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  }

  run(x: tf.Tensor, y: tf.Tensor): void {
    // Kept past the gradient's own tidy, which would otherwise dispose them with the rest of the forward pass.
    const kept: tf.Tensor[] = [];
    try {
      tf.tidy(() => {
        // optimizer.minimize, with the seed passed in.
        const { grads } = tf.engine().gradients(
          () => {
            const predictions = tf.keep(this.model.apply(x, { training: true }) as tf.Tensor);
            const perSample = tf.keep(this.lossFunction(y, predictions));
            kept.push(predictions, perSample);
            return this.mean(perSample);
          },
          this.variables,
          this.seed,
          true,
        );
        if (!grads.some((gradient) => gradient)) throw new Error('the loss does not depend on any trainable weight of the model');
        // A weight the loss does not reach has no gradient; the optimizers skip it, as under minimize.
        this.optimizer.applyGradients(this.variables.map((variable, i) => ({ name: variable.name, tensor: grads[i] as tf.Tensor })));
        const [predictions, perSample] = kept as [tf.Tensor, tf.Tensor];
        const next = tf.keep(this.addTotals(this.totals, perSample, predictions, y));
        this.totals.dispose();
        this.totals = next;
      });
    } finally {
      tf.dispose(kept);
    }
  }

  /** perSample.mean(), with the same gradient (dy · 1/n per element) from a tensor kept on the device. */
  private mean(perSample: tf.Tensor): tf.Scalar {
    const key = perSample.shape.join('x');
    const weights = this.meanGradients.get(key) ?? tf.keep(tf.fill(perSample.shape, Math.fround(1 / perSample.size)));
    this.meanGradients.set(key, weights);
    const mean = (values: tf.Tensor) => ({ value: values.mean() as tf.Scalar, gradFunc: (dy: tf.Tensor) => dy.mul(weights) });
    return tf.customGrad(mean as unknown as Parameters<typeof tf.customGrad<tf.Scalar>>[0])(perSample);
  }

  /** Starts reading the totals so far; the promise settles once the device has caught up. */
  read(): Promise<{ loss: number; correct: number }> {
    // A handle of its own: the next batch replaces (and disposes) `totals` while this read is in flight.
    const snapshot = this.totals.clone();
    return snapshot.data().then((values) => {
      snapshot.dispose();
      return { loss: values[0]!, correct: values[1]! };
    });
  }

  reset(): void {
    this.totals.dispose();
    this.totals = tf.keep(tf.zeros([2]));
  }

  dispose(): void {
    tf.dispose([this.totals, this.seed, ...this.meanGradients.values()]);
  }
}

/** The stock ops: the batch's summed loss and count of argMax hits, added to the totals. */
export function stockAddTotals(totals: tf.Tensor, perSample: tf.Tensor, predictions: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const labels = targets.rank === 1 ? targets.toInt() : targets.argMax(-1);
    const correct = predictions.argMax(-1).equal(labels).sum().toFloat();
    return totals.add(tf.stack([perSample.sum(), correct]));
  });
}
