import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { activateBackend } from '../src/backend/select.js';
import { loadExperiment } from '../src/config/load-experiment.js';
import type { TrialConfig } from '../src/config/resolved.js';
import { buildModel } from '../src/model/build.js';
import { createOptimizer } from '../src/model/optimizer.js';
import { ROOT } from './helpers/cli.js';
import { relativeError } from './helpers/numeric.js';
import { expandTrials } from '../src/sweep/expand.js';
import { TrainStep } from '../src/trial/train-step.js';

// SwiftShader: Vulkan on the CPU, read by the loader when Dawn starts.
process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * The runner's own training step (TrainStep: forward, loss, gradients through the replacement kernels, the fused
 * optimizer update, device-side totals) on webgpu gives the cpu backend's losses and weights step after step,
 * for the seed CNN and each optimizer that has a fused update.
 */
const seedCnn = expandTrials(loadExperiment(join(ROOT, 'experiments', 'seed-cnn.yaml')))[0]!.config;
// SwiftShader runs the seed CNN at a few samples a second: small batches, few steps.
const BATCH = 2;
const STEPS = 2;

function withOptimizer(optimizer: TrialConfig['train']['optimizer']): TrialConfig {
  return { ...seedCnn, train: { ...seedCnn.train, optimizer } };
}

async function train(config: TrialConfig): Promise<{ totals: number[]; weights: Float32Array[] }> {
  const model = buildModel(config);
  model.compile({ optimizer: createOptimizer(config.train.optimizer), loss: config.train.loss });
  const step = new TrainStep(model, config.train.loss);
  const totals: number[] = [];
  for (let s = 0; s < STEPS; s++) {
    const x = tf.randomUniform([BATCH, 28, 28, 1], 0, 1, 'float32', 100 + s);
    const y = tf.tensor1d(Array.from({ length: BATCH }, (_, i) => (i * 7 + s) % 10), 'float32');
    step.reset();
    step.run(x, y);
    totals.push((await step.read()).loss / BATCH);
    x.dispose();
    y.dispose();
  }
  const weights = await Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
  step.dispose();
  model.optimizer.dispose();
  model.dispose();
  return { totals, weights };
}


const optimizers: TrialConfig['train']['optimizer'][] = [
  { name: 'adam', learningRate: 0.001 },
  { name: 'sgd', learningRate: 0.05, momentum: 0.9 },
  { name: 'rmsprop', learningRate: 0.001 },
];

describe('training on webgpu matches the cpu backend', () => {
  it(`the seed CNN, ${STEPS} steps of batch ${BATCH}, with adam, momentum and rmsprop`, async () => {
    const reference: Awaited<ReturnType<typeof train>>[] = [];
    await activateBackend('cpu');
    for (const optimizer of optimizers) reference.push(await train(withOptimizer(optimizer)));
    const info = await activateBackend('webgpu');
    expect(info.adapter?.architecture).toBe('swiftshader');
    for (const [i, optimizer] of optimizers.entries()) {
      // The fused update is the one in use, not tfjs's stock optimizer.
      const chosen = createOptimizer(optimizer);
      expect(chosen.constructor.name).toMatch(/^Fused/);
      chosen.dispose();
      const actual = await train(withOptimizer(optimizer));
      for (let s = 0; s < STEPS; s++) expect(actual.totals[s]).toBeCloseTo(reference[i]!.totals[s]!, 4);
      const errors = actual.weights.map((w, k) => relativeError(reference[i]!.weights[k]!, w));
      expect(Math.max(...errors)).toBeLessThan(1e-3);
    }
  });
});
