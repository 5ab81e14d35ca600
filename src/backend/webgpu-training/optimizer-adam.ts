import * as tf from '@tensorflow/tfjs';
import { EMA, EMA_SQUARE, runUpdate, type UpdateSpec } from './fused-update.js';
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
 * tf.train.adam with each variable's update as 3 dispatches on the webgpu backend (m, v, the variable), its scalars
 * as uniforms. Same numbers, state, names and serialization ('Adam') as the stock optimizer; other backends run the
 * stock update.
 */
export class FusedAdam extends tf.AdamOptimizer {
  /**
   * β1^t and β2^t as the stock optimizer's float32 variables `accBeta1/2` hold them (t = iterations + 1), kept here
   * as numbers so a step uploads nothing. The variables themselves are brought up to date only before a stock step.
   */
  private powBeta1: number;
  private powBeta2: number;
  private stateVariablesCurrent = true;

  constructor(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon?: number | null) {
    super(learningRate, beta1, beta2, epsilon ?? undefined);
    this.powBeta1 = Math.fround(beta1);
    this.powBeta2 = Math.fround(beta2);
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
    const backend = fusableBackend(entries.flatMap((e, i) => [e.value, e.gradient, ...moments[i]!]));
    if (!backend) {
      this.stockStep(variableGradients);
      return;
    }
    // 1 − β^t in float32, as tfjs's sub(1, accBeta) gives it.
    const uniforms = [Math.fround(1 - this.powBeta1), Math.fround(1 - this.powBeta2), this.epsilon, -this.learningRate];
    for (const [i, entry] of entries.entries()) {
      if (entry.gradient === undefined) continue;
      const [m, v] = moments[i]!;
      runUpdate(backend, EMA, m!, [entry.gradient], [this.beta1, 1 - this.beta1]);
      runUpdate(backend, EMA_SQUARE, v!, [entry.gradient], [this.beta2, 1 - this.beta2]);
      runUpdate(backend, ADAM_VARIABLE, entry.value, [m!, v!], uniforms);
    }
    this.advancePowers();
    this.stateVariablesCurrent = false;
    this.incrementIterations();
  }

  /** The stock update, for a call that cannot run fused; it reads β^t from the variables, so they are set first. */
  private stockStep(variableGradients: Gradients): void {
    if (!this.stateVariablesCurrent) {
      tf.tidy(() => {
        this.state.accBeta1.assign(tf.scalar(this.powBeta1));
        this.state.accBeta2.assign(tf.scalar(this.powBeta2));
      });
    }
    // The stock Adam types its map as variables; it reads them as tensors.
    super.applyGradients(variableGradients as Parameters<tf.AdamOptimizer['applyGradients']>[0]);
    this.advancePowers();
    this.stateVariablesCurrent = true;
  }

  /** accBeta ← accBeta·β, a float32 multiplication as tfjs's mul does it. */
  private advancePowers(): void {
    this.powBeta1 = Math.fround(this.powBeta1 * Math.fround(this.beta1));
    this.powBeta2 = Math.fround(this.powBeta2 * Math.fround(this.beta2));
  }

  override async setWeights(weightValues: Parameters<tf.Optimizer['setWeights']>[0]): Promise<void> {
    await super.setWeights(weightValues);
    // The stock setWeights sets accBeta = β^(iterations+1); take the float32 values it computed.
    this.powBeta1 = (await this.state.accBeta1.data())[0]!;
    this.powBeta2 = (await this.state.accBeta2.data())[0]!;
    this.stateVariablesCurrent = true;
  }
}
