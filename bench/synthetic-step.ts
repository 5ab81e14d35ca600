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
