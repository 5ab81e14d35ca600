import * as tf from '@tensorflow/tfjs';
import { EMA, EMA_SQUARE, runUpdates, type UpdateSpec } from './fused-update.js';
import { ensureState, fusableBackend, gradientEntries, type Gradients, type OptimizerVariable } from './optimizer-common.js';

/** The stock AdamOptimizer's private fields this subclass shares (so its getWeights/setWeights/dispose still hold). */
interface AdamState {
  accumulatedFirstMoment: OptimizerVariable[];
  accumulatedSecondMoment: OptimizerVariable[];
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
}

/** var + (m̂ / (√v̂ + ε))·(−lr), with m̂ = m/(1−β1^t), v̂ = v/(1−β2^t): tfjs's Adam, operation for operation. */
const ADAM_VARIABLE: UpdateSpec = {
  key: 'adamVariable',
  inputs: ['M', 'V'],
  uniforms: ['c1', 'c2', 'eps', 'nlr'],
  expr: '((m / uniforms.c1) / (sqrt(v / uniforms.c2) + uniforms.eps)) * uniforms.nlr + old',
};

/**
 * tf.train.adam with each variable's update (m, v, the variable) as one dispatch on the webgpu backend, its scalars
 * as uniforms. Same numbers, state, names and serialization ('Adam') as the stock optimizer; other backends run the
 * stock update.
 */
export class FusedAdam extends tf.AdamOptimizer {
  /**
   * β1^t and β2^t after `step` steps (t = step + 1) as the stock optimizer's float32 variables `accBeta1/2` hold them
   * in an uninterrupted run, kept here as numbers so a step uploads nothing. They follow from the step count alone, so
   * whatever sets it (setWeights, a checkpoint's restore) gets the same products; the stock setWeights recomputes
   * its variables with pow instead, which rounds differently.
   */
  private powers: { step: number; beta1: number; beta2: number };

  constructor(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon?: number | null) {
    super(learningRate, beta1, beta2, epsilon ?? undefined);
    this.powers = this.initialPowers();
  }

  private get state(): AdamState {
    return this as unknown as AdamState;
  }

  override applyGradients(variableGradients: Gradients): void {
    const entries = gradientEntries(variableGradients);
    const state = this.state;
    const moments = entries.map((entry) => [
      ensureState(state.accumulatedFirstMoment, entry, 'm'),
      ensureState(state.accumulatedSecondMoment, entry, 'v'),
    ]);
    const powers = this.currentPowers();
    const backend = fusableBackend(entries.flatMap((e, i) => [e.value, e.gradient, ...moments[i]!]));
    if (!backend) {
      this.stockStep(variableGradients, powers);
      return;
    }
    // 1 − β^t in float32, as tfjs's sub(1, accBeta) gives it.
    const uniforms = [Math.fround(1 - powers.beta1), Math.fround(1 - powers.beta2), this.epsilon, -this.learningRate];
    for (const [i, entry] of entries.entries()) {
      if (entry.gradient === undefined) continue;
      const [m, v] = moments[i]!;
      runUpdates(backend, [
        { spec: EMA, target: m!, inputs: [entry.gradient], values: [this.beta1, 1 - this.beta1] },
        { spec: EMA_SQUARE, target: v!, inputs: [entry.gradient], values: [this.beta2, 1 - this.beta2] },
        { spec: ADAM_VARIABLE, target: entry.value, inputs: [m!, v!], values: uniforms },
      ]);
    }
    this.incrementIterations();
  }

  /** The stock update, for a call that cannot run fused; it reads β^t from the variables, which fused steps leave behind. */
  private stockStep(variableGradients: Gradients, powers: { beta1: number; beta2: number }): void {
    tf.tidy(() => {
      this.state.accBeta1.assign(tf.scalar(powers.beta1));
      this.state.accBeta2.assign(tf.scalar(powers.beta2));
    });
    // The stock Adam types its map as variables; it reads them as tensors.
    super.applyGradients(variableGradients as Parameters<tf.AdamOptimizer['applyGradients']>[0]);
  }

  /** The powers for the coming step, brought up to the step count one float32 multiplication (as tfjs's mul) at a time. */
  private currentPowers(): { beta1: number; beta2: number } {
    if (this.powers.step > this.iterations) this.powers = this.initialPowers();
    const beta1 = Math.fround(this.beta1);
    const beta2 = Math.fround(this.beta2);
    while (this.powers.step < this.iterations) {
      this.powers = { step: this.powers.step + 1, beta1: Math.fround(this.powers.beta1 * beta1), beta2: Math.fround(this.powers.beta2 * beta2) };
    }
    return this.powers;
  }

  /** β^1, as the stock constructor's float32 scalars hold it. */
  private initialPowers(): { step: number; beta1: number; beta2: number } {
    return { step: 0, beta1: Math.fround(this.beta1), beta2: Math.fround(this.beta2) };
  }
}
