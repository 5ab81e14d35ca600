import * as tf from '@tensorflow/tfjs';
import { AXPY, EMA, runUpdate, runUpdates, type UpdateSpec } from './fused-update.js';
import { ensureState, fusableBackend, gradientEntries, type Gradients, type OptimizerVariable } from './optimizer-common.js';

/** tf.train.sgd with each variable's update as 1 dispatch on the webgpu backend; stock elsewhere. */
export class FusedSGD extends tf.SGDOptimizer {
  override applyGradients(variableGradients: Gradients): void {
    const entries = gradientEntries(variableGradients).filter((e) => e.gradient !== undefined);
    const backend = fusableBackend(entries.flatMap((e) => [e.value, e.gradient]));
    if (!backend) {
      super.applyGradients(variableGradients);
      return;
    }
    // value + (−lr)·g, as the stock add(mul(c, g), value).
    for (const entry of entries) runUpdate(backend, AXPY, entry.value, [entry.gradient!], [-this.learningRate]);
    this.incrementIterations();
  }
}

/** var + c·(g + acc·m): tfjs's Nesterov step. */
const NESTEROV_VARIABLE: UpdateSpec = {
  key: 'nesterovVariable',
  inputs: ['G', 'A'],
  uniforms: ['c', 'm'],
  expr: 'uniforms.c * (g + a * uniforms.m) + old',
};

/**
 * tf.train.momentum with each variable's update (accumulator, variable) as one dispatch on the webgpu backend; stock
 * elsewhere. Like the stock optimizer it uses the momentum it was built with (its `setMomentum` changes only the
 * config, because the stock update reads a scalar tensor made in the constructor).
 */
export class FusedMomentum extends tf.MomentumOptimizer {
  private readonly momentumValue: number;
  private readonly nesterov: boolean;

  constructor(learningRate: number, momentum: number, useNesterov = false) {
    super(learningRate, momentum, useNesterov);
    this.momentumValue = momentum;
    this.nesterov = useNesterov;
  }

  override applyGradients(variableGradients: Gradients): void {
    const entries = gradientEntries(variableGradients);
    const accumulations = (this as unknown as { accumulations: OptimizerVariable[] }).accumulations;
    const states = entries.map((entry) => ensureState(accumulations, entry, 'momentum'));
    const backend = fusableBackend(entries.flatMap((e, i) => [e.value, e.gradient, states[i]]));
    if (!backend) {
      super.applyGradients(variableGradients as Parameters<tf.MomentumOptimizer['applyGradients']>[0]);
      return;
    }
    for (const [i, entry] of entries.entries()) {
      if (entry.gradient === undefined) continue;
      const accumulation = states[i]!;
      runUpdates(backend, [
        // acc·m + g (the stock add(mul(m, acc), g); g·1 is exact).
        { spec: EMA, target: accumulation, inputs: [entry.gradient], values: [this.momentumValue, 1] },
        this.nesterov
          ? { spec: NESTEROV_VARIABLE, target: entry.value, inputs: [entry.gradient, accumulation], values: [-this.learningRate, this.momentumValue] }
          : { spec: AXPY, target: entry.value, inputs: [accumulation], values: [-this.learningRate] },
      ]);
    }
    this.incrementIterations();
  }
}
