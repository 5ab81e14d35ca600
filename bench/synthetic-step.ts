import * as tf from '@tensorflow/tfjs';
import type { TrialConfig } from '../src/config/resolved.js';
import { buildModel } from '../src/model/build.js';
import { createOptimizer } from '../src/model/optimizer.js';
import { TrainStep } from '../src/trial/train-step.js';

/** `config`'s model compiled as training compiles it, its TrainStep, and one random batch with labels 0–9 to step on. */
export function syntheticStep(config: TrialConfig): { step: TrainStep; x: tf.Tensor; y: tf.Tensor; dispose(): void } {
  const batch = config.train.batchSize;
  const model = buildModel(config);
  model.compile({ optimizer: createOptimizer(config.train.optimizer), loss: config.train.loss });
  const x = tf.randomUniform([batch, ...config.model.input]);
  const y = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), 'float32');
  const step = new TrainStep(model, config.train.loss);
  return {
    step,
    x,
    y,
    dispose() {
      step.dispose();
      tf.dispose([x, y]);
      model.optimizer.dispose();
      model.dispose();
    },
  };
}

/** Totals are read every this many steps, as the training loop does. */
export const READ_EVERY = 16;

/**
 * Milliseconds per step of `step` on one batch, unprofiled: the median over `blocks` blocks of `stepsPerBlock` steps,
 * each block ending once the device has caught up, with the totals read every 16 steps as in training.
 */
export async function medianStepMs(step: TrainStep, x: tf.Tensor, y: tf.Tensor, blocks: number, stepsPerBlock: number): Promise<number> {
  const blockMs: number[] = [];
  for (let block = 0; block < blocks; block++) {
    const started = performance.now();
    for (let i = 1; i <= stepsPerBlock; i++) {
      step.run(x, y);
      if (i % READ_EVERY === 0) await step.read();
    }
    if (stepsPerBlock % READ_EVERY !== 0) await step.read();
    blockMs.push((performance.now() - started) / stepsPerBlock);
  }
  return blockMs.sort((a, b) => a - b)[Math.floor(blocks / 2)]!;
}
