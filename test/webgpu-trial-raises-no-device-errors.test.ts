import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { describe, expect, it } from 'vitest';
import { activateBackend } from '../src/backend/select.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadExperiment } from '../src/config/load-experiment.js';
import { tempDir } from './helpers/cli.js';
import { loadDataset } from '../src/data/dataset.js';
import { expandTrials } from '../src/sweep/expand.js';
import { runTrial } from '../src/trial/run-trial.js';

process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
process.env.XDG_RUNTIME_DIR ??= '/tmp';

/**
 * A whole trial on webgpu (training, validation, early stopping's best weights, the final finiteness check, the test
 * score) makes no call the device rejects. A rejected pipeline is no exception in tfjs: Dawn prints it and drops the
 * whole submit, so the numbers read afterwards are silently wrong. This caught the finiteness check's addN, which
 * binds one buffer per weight and exceeds WebGPU's 8 storage buffers for a model with 8 weights or more.
 */
const EXPERIMENT = `name: webgpu-device-errors
backend: webgpu
data: { trainLimit: 64, testLimit: 40 }
model:
  layers:
    - { type: flatten }
    - { type: dense, units: 16, activation: relu }
    - { type: dense, units: 16, activation: relu }
    - { type: dense, units: 16, activation: relu }
    - { type: dense, units: 10, activation: softmax }
train: { epochs: 2, batchSize: 16, seed: 5, optimizer: { name: adam, learningRate: 0.01 }, earlyStopping: { patience: 1, monitor: valAccuracy } }
`;

describe('a trial on webgpu', () => {
  it('with 8 weights trains, validates, checks and scores without a device error', async () => {
    await activateBackend('webgpu');
    const device = (tf.backend() as WebGPUBackend).device;
    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    const file = join(tempDir(), 'webgpu-device-errors.yaml');
    writeFileSync(file, EXPERIMENT);
    const [trial] = expandTrials(loadExperiment(file));
    const result = await runTrial(trial!.config, await loadDataset({}));
    const outOfMemory = await device.popErrorScope();
    const validation = await device.popErrorScope();
    expect(validation?.message).toBeUndefined();
    expect(outOfMemory?.message).toBeUndefined();
    expect(result.outcome).toBe('completed');
    expect(result.paramCount).toBe(784 * 16 + 16 + 2 * (16 * 16 + 16) + 16 * 10 + 10);
    expect(result.test?.accuracy).toBeGreaterThan(0);
  });
});
