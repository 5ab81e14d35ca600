import * as tf from '@tensorflow/tfjs';
import { AXPY, EMA, EMA_SQUARE, runUpdates, type UpdateSpec } from './fused-update.js';
import { ensureState, fusableBackend, gradientEntries, type Gradients, type OptimizerVariable } from './optimizer-common.js';

/** The stock RMSPropOptimizer's private fields this subclass shares. */
interface RMSPropState {
  centered: boolean;
  accumulatedMeanSquares: OptimizerVariable[];
  accumulatedMoments: OptimizerVariable[];
  accumulatedMeanGrads: OptimizerVariable[];
}

/** mom·momentum + g·lr / √(ms + ε), with the new mean square `s`. */
const RMSPROP_MOMENT: UpdateSpec = {
  key: 'rmspropMoment',
  inputs: ['G', 'S'],
  uniforms: ['a', 'lr', 'eps'],
  expr: 'old * uniforms.a + (g * uniforms.lr) / sqrt(s + uniforms.eps)',
};

/** Centered: mom·momentum + g·lr / √(ms − (mg² + ε)), with the new mean gradient `n`. */
const RMSPROP_CENTERED_MOMENT: UpdateSpec = {
  key: 'rmspropCenteredMoment',
  inputs: ['G', 'S', 'N'],
  uniforms: ['a', 'lr', 'eps'],
  expr: 'old * uniforms.a + (g * uniforms.lr) / sqrt(s - (n * n + uniforms.eps))',
};

/**
 * tf.train.rmsprop with each variable's update (mean square, momentum, the variable, and the mean gradient when
 * centered) as one dispatch on the webgpu backend; stock elsewhere. Like the stock optimizer it keeps and saves
 * the momentum accumulator even when momentum is 0.
 */
export class FusedRMSProp extends tf.RMSPropOptimizer {
  constructor(learningRate: number, decay = 0.9, momentum = 0, epsilon?: number | null, centered = false) {
    super(learningRate, decay, momentum, epsilon ?? undefined, centered);
  }

  override applyGradients(variableGradients: Gradients): void {
    const entries = gradientEntries(variableGradients);
    const state = this as unknown as RMSPropState;
    const states = entries.map((entry) => ({
      meanSquare: ensureState(state.accumulatedMeanSquares, entry, 'rms'),
      moment: ensureState(state.accumulatedMoments, entry, 'momentum'),
      meanGrad: state.centered ? ensureState(state.accumulatedMeanGrads, entry, 'mg') : undefined,
    }));
    const backend = fusableBackend(
      entries.flatMap((e, i) => [e.value, e.gradient, states[i]!.meanSquare, states[i]!.moment, states[i]!.meanGrad]),
    );
    if (!backend) {
      super.applyGradients(variableGradients);
      return;
    }
    const decay = [this.decay, 1 - this.decay];
    const moment = [this.momentum, this.learningRate, this.epsilon];
    for (const [i, entry] of entries.entries()) {
      if (entry.gradient === undefined) continue;
      const { meanSquare, moment: accumulated, meanGrad } = states[i]!;
      const gradient = entry.gradient;
      runUpdates(backend, [
        { spec: EMA_SQUARE, target: meanSquare, inputs: [gradient], values: decay },
        ...(meanGrad
          ? [
              { spec: EMA, target: meanGrad, inputs: [gradient], values: decay },
              { spec: RMSPROP_CENTERED_MOMENT, target: accumulated, inputs: [gradient, meanSquare, meanGrad], values: moment },
            ]
          : [{ spec: RMSPROP_MOMENT, target: accumulated, inputs: [gradient, meanSquare], values: moment }]),
        // value − mom, as value + (−1)·mom (exact).
        { spec: AXPY, target: entry.value, inputs: [accumulated], values: [-1] },
      ]);
    }
    this.incrementIterations();
  }
}
