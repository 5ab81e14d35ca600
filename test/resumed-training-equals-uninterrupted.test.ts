import * as tf from '@tensorflow/tfjs';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { activateBackend } from '../src/backend/select.js';
import type { TrialConfig } from '../src/config/resolved.js';
import { loadDataset, type Dataset } from '../src/data/dataset.js';
import { createOptimizer } from '../src/model/optimizer.js';
import { SeededRandom } from '../src/random.js';
import { checkpointEpoch } from '../src/trial/checkpoint.js';
import { optimizerState, restoreOptimizerState } from '../src/trial/optimizer-state.js';
import { runTrial, type TrialOptions, type TrialResult } from '../src/trial/run-trial.js';
import { tempDir } from './helpers/cli.js';

/**
 * A trial stopped after epoch 2 and continued from its checkpoint ends exactly where one trained straight through 4
 * epochs does: same weights bit for bit, same optimizer state, same epoch scores, same test accuracy. The small CNN
 * uses everything the trial's generator drives (the epoch shuffle, augmentation, dropout masks) and early stopping
 * that keeps best weights without stopping. Real Fashion-MNIST, 600 training and 256 test images, on wasm.
 *
 * 600 images make 10 batches an epoch, the last one partial, so the pause falls after step 20: there 0.999^21 taken
 * with pow (as tfjs's setWeights restores Adam's β powers) and the stepwise float32 product differ, and a restore that
 * recomputed them would fail here. (After 16 steps they happen to agree.) The webgpu backend's fused optimizers are
 * checked a step below, on their state alone: a trial on SwiftShader would take minutes.
 */

type Optimizer = TrialConfig['train']['optimizer'];

/** Written out whole rather than loaded from YAML: this file tests training, not the experiment format. */
const configOf = (optimizer: Optimizer, seed = 7): TrialConfig => ({
  name: 'resume',
  data: { dataset: 'fashion-mnist', validation: 'test', trainLimit: 600, testLimit: 256 },
  model: {
    input: [28, 28, 1],
    layers: [
      { type: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' },
      { type: 'maxPooling2d', poolSize: 2 },
      { type: 'flatten' },
      { type: 'dropout', rate: 0.25 },
      { type: 'dense', units: 10, activation: 'softmax' },
    ],
  },
  train: { optimizer, loss: 'sparseCategoricalCrossentropy', epochs: 4, batchSize: 64, seed, earlyStopping: { monitor: 'valLoss', patience: 10 } },
  augment: [{ type: 'randomTranslation', height: 0.1, width: 0.1 }],
});

const OPTIMIZERS: Record<string, Optimizer> = {
  adam: { name: 'adam', learningRate: 0.01 },
  'sgd with momentum': { name: 'sgd', learningRate: 0.05, momentum: 0.9 },
  rmsprop: { name: 'rmsprop', learningRate: 0.003, momentum: 0.5 },
  adamax: { name: 'adamax', learningRate: 0.01 },
};

let dataset: Dataset;
const scratch = tempDir('runner-resume-');
let folders = 0;
const folder = () => join(scratch, `f${folders++}`);

beforeAll(async () => {
  await activateBackend('wasm');
  dataset = await loadDataset({});
});

/** A trial as the worker runs it, with the last epoch `onStart` reported restored (undefined: none). */
async function trial(config: TrialConfig, options: TrialOptions): Promise<TrialResult & { started: number | undefined }> {
  let started: number | undefined;
  const result = await runTrial(config, dataset, { onStart: (restored) => (started = restored.at(-1)?.epoch) }, options);
  return { ...result, started };
}

/** The checkpoint's files as checkpoint.ts documents them: its state and the model's weights, split off the others. */
function readCheckpoint(dir: string) {
  const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as {
    weights: { file: string; sha256: string; tensors: { part: string; shape: number[] }[] };
  };
  const bytes = readFileSync(join(dir, state.weights.file));
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const modelValues = state.weights.tensors.filter((t) => t.part === 'model').reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
  // The model's weights come first.
  return { state, modelWeights: all.subarray(0, modelValues), bytes };
}

const scores = (result: TrialResult) =>
  result.epochs.map(({ epoch, loss, accuracy, valLoss, valAccuracy }) => ({ epoch, loss, accuracy, valLoss, valAccuracy }));

describe('a trial continued from its checkpoint equals one trained straight through', () => {
  for (const [name, optimizer] of Object.entries(OPTIMIZERS)) {
    it(`${name}: 2 epochs, stop, 2 more from the checkpoint = 4 epochs at once, bit for bit`, async () => {
      const config = configOf(optimizer);
      const straightDir = folder();
      const straight = await trial(config, { checkpointDir: straightDir, modelDir: folder() });
      expect(straight).toMatchObject({ outcome: 'completed', reachedEnd: true, started: undefined, stoppedEarly: false });
      expect(straight.resumedFrom).toBeUndefined();
      expect(straight.epochs).toHaveLength(4);

      const pausedDir = folder();
      const firstModel = folder();
      const first = await trial(config, { checkpointDir: pausedDir, untilEpoch: 2, modelDir: firstModel });
      expect(first).toMatchObject({ outcome: 'completed', reachedEnd: false });
      expect(first.test?.accuracy).toBeGreaterThan(0);
      expect(readFileSync(join(firstModel, 'model.json'), 'utf8')).toContain('weightsManifest');
      expect(scores(first)).toEqual(scores(straight).slice(0, 2));
      expect(checkpointEpoch(pausedDir)).toBe(2);

      const resumed = await trial(config, { checkpointDir: pausedDir, modelDir: folder() });
      expect(resumed).toMatchObject({ outcome: 'completed', reachedEnd: true, resumedFrom: 2, started: 2, bestEpoch: straight.bestEpoch });
      expect(scores(resumed)).toEqual(scores(straight));
      expect(resumed.test!.accuracy).toBe(straight.test!.accuracy);
      expect(resumed.test!.loss).toBe(straight.test!.loss);

      const a = readCheckpoint(straightDir);
      const b = readCheckpoint(pausedDir);
      expect(b.modelWeights.length).toBeGreaterThan(0);
      expect(b.modelWeights).toEqual(a.modelWeights);
      // Model, best and optimizer state, every bit.
      expect(Buffer.compare(b.bytes, a.bytes)).toBe(0);
      expect(b.state.weights.sha256).toBe(a.state.weights.sha256);
    });
  }
});

describe('a checkpoint that is not this trial’s is no checkpoint', () => {
  let config: TrialConfig;
  let saved: string;
  let firstEpoch: ReturnType<typeof scores>;

  beforeAll(async () => {
    config = configOf(OPTIMIZERS.adam!);
    saved = folder();
    firstEpoch = scores(await trial(config, { checkpointDir: saved, untilEpoch: 1 }));
  });

  /** A copy of the saved checkpoint, changed by `damage`, that a trial of `trialConfig` starts from. */
  async function startFrom(trialConfig: TrialConfig, damage: (dir: string) => void) {
    const dir = folder();
    cpSync(saved, dir, { recursive: true });
    damage(dir);
    return { dir, result: await trial(trialConfig, { checkpointDir: dir, untilEpoch: 1 }) };
  }

  it('one of another config: starts fresh, and its own checkpoint replaces it', async () => {
    const other = configOf(OPTIMIZERS.adam!, 8);
    const { dir, result } = await startFrom(other, () => {});
    expect(result.resumedFrom).toBeUndefined();
    expect(result.started).toBeUndefined();
    expect(result.epochs).toHaveLength(1);
    expect(scores(result)).not.toEqual(firstEpoch);
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).trial).not.toBe(JSON.parse(readFileSync(join(saved, 'state.json'), 'utf8')).trial);
  });

  it('a damaged state.json: starts fresh and trains what a fresh trial does', async () => {
    const { dir, result } = await startFrom(config, (dir) => {
      const path = join(dir, 'state.json');
      writeFileSync(path, readFileSync(path, 'utf8').slice(0, 100));
      expect(checkpointEpoch(dir)).toBeUndefined();
    });
    expect(result.resumedFrom).toBeUndefined();
    expect(scores(result)).toEqual(firstEpoch);
    expect(checkpointEpoch(dir)).toBe(1);
  });

  it('a damaged weights file: starts fresh', async () => {
    const { result } = await startFrom(config, (dir) => {
      const { state, bytes } = readCheckpoint(dir);
      bytes.writeUInt8(bytes.readUInt8(0) ^ 1, 0);
      writeFileSync(join(dir, state.weights.file), bytes);
    });
    expect(result.resumedFrom).toBeUndefined();
    expect(scores(result)).toEqual(firstEpoch);
  });
});

describe('the webgpu backend’s fused optimizers go on from a restored state exactly (on SwiftShader where there is no GPU)', () => {
  const SHAPES = [[3, 4], [5]];
  const STEPS = 25;
  // As in the trials above, a pause after step 20, where pow and the stepwise product of Adam's β2 powers differ.
  const PAUSE = 20;
  const random = new SeededRandom(11);
  const valuesOf = (shape: number[]) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random.uniform(-1, 1));
  const initial = SHAPES.map(valuesOf);
  const gradients = Array.from({ length: STEPS }, () => SHAPES.map(valuesOf));
  let names = 0;

  beforeAll(async () => {
    process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
    await activateBackend('webgpu');
  });

  /** Variables from `initial`, and a function taking the optimizer through steps [from, to). */
  function variables() {
    const vars = SHAPES.map((shape, i) => tf.variable(tf.tensor(initial[i]!, shape), true, `fused_resume_${names++}`));
    const train = (optimizer: tf.Optimizer, from: number, to: number) => {
      for (let s = from; s < to; s++)
        tf.tidy(() => optimizer.applyGradients(Object.fromEntries(vars.map((v, i) => [v.name, tf.tensor(gradients[s]![i]!, SHAPES[i])]))));
    };
    return { vars, train };
  }

  for (const [name, settings] of Object.entries(OPTIMIZERS).filter(([, o]) => o.name !== 'adamax')) {
    it(`${name}: ${PAUSE} steps, a new optimizer given the state, ${STEPS - PAUSE} more = ${STEPS} steps at once, bit for bit`, async () => {
      const straight = variables();
      const uninterrupted = createOptimizer(settings);
      straight.train(uninterrupted, 0, STEPS);

      const paused = variables();
      const first = createOptimizer(settings);
      paused.train(first, 0, PAUSE);
      // Through the CPU, as a checkpoint takes it.
      const { iterations, parts } = optimizerState(first);
      const saved = await Promise.all(parts.map(async (part) => ({ ...part, tensor: tf.tensor(await part.tensor.data(), part.tensor.shape) })));
      first.dispose();
      const second = createOptimizer(settings);
      restoreOptimizerState(second, { iterations, parts: saved });
      paused.train(second, PAUSE, STEPS);

      for (const [i, v] of paused.vars.entries()) expect(await v.data()).toEqual(await straight.vars[i]!.data());
      tf.dispose([...straight.vars, ...paused.vars, ...saved.map((part) => part.tensor)]);
      uninterrupted.dispose();
      second.dispose();
    });
  }
});
