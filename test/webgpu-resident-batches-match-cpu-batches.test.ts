import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { activateBackend, residentImages } from '../src/backend/select.js';
import { loadExperiment } from '../src/config/load-experiment.js';
import { CLASS_COUNT, PIXELS, type LabelledImages } from '../src/data/classes.js';
import { loadDataset } from '../src/data/dataset.js';
import { expandTrials } from '../src/sweep/expand.js';
import { batchesOf } from '../src/trial/batches.js';
import { runTrial } from '../src/trial/run-trial.js';
import { tempDir } from './helpers/cli.js';

process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
process.env.XDG_RUNTIME_DIR ??= '/tmp';

/**
 * On webgpu the training set is held on the GPU (bytes packed four to a word) and each batch gathered there from
 * its sample indices. Its pixels and targets must be the very numbers the CPU path makes, so that a trial trains
 * the same either way.
 */
let train: LabelledImages;

beforeAll(async () => {
  await activateBackend('webgpu');
  train = (await loadDataset({})).train;
});

afterEach(() => {
  delete process.env.RUNNER_UPLOAD;
});

/** The CPU path's pixels (byte / 255 into float32) and one-hot rows. */
function expected(indices: number[]): { pixels: Float32Array; oneHot: Float32Array; labels: Float32Array } {
  const pixels = new Float32Array(indices.length * PIXELS);
  const oneHot = new Float32Array(indices.length * CLASS_COUNT);
  indices.forEach((sample, n) => {
    for (let p = 0; p < PIXELS; p++) pixels[n * PIXELS + p] = train.images[sample * PIXELS + p]! / 255;
    oneHot[n * CLASS_COUNT + train.labels[sample]!] = 1;
  });
  return { pixels, oneHot, labels: Float32Array.from(indices, (sample) => train.labels[sample]!) };
}

describe('batches gathered on the GPU', () => {
  // The last samples end in the last packed word; odd counts and repeats on purpose.
  const indices = [0, 1, 59999, 12345, 7, 7, 59998, 59997];

  it('are the CPU path\'s pixels and one-hot targets, for either input shape', async () => {
    const resident = residentImages(train, PIXELS, CLASS_COUNT);
    expect(resident).toBeDefined();
    const want = expected(indices);
    const { x, y } = resident!.labelled(indices, [28, 28, 1], 'oneHot');
    expect(x.shape).toEqual([indices.length, 28, 28, 1]);
    expect(y.shape).toEqual([indices.length, CLASS_COUNT]);
    expect(await x.data()).toEqual(want.pixels);
    expect(await y.data()).toEqual(want.oneHot);
    const flat = resident!.inputs([3, 59999, 2], [PIXELS]);
    expect(flat.shape).toEqual([3, PIXELS]);
    expect(await flat.data()).toEqual(expected([3, 59999, 2]).pixels);
    tf.dispose([x, y, flat]);
  });

  it('give class indices for sparse targets', async () => {
    const { x, y } = residentImages(train, PIXELS, CLASS_COUNT)!.labelled(indices, [PIXELS], 'sparse');
    expect(y.shape).toEqual([indices.length]);
    expect(await y.data()).toEqual(expected(indices).labels);
    tf.dispose([x, y]);
  });

  it('are left to the CPU when a batch is augmented, and with RUNNER_UPLOAD=stock', async () => {
    let edited = 0;
    const { x } = batchesOf(train, [PIXELS]).labelled([5, 6], 'oneHot', (pixels) => {
      edited = pixels.length;
      pixels.fill(0.5);
    });
    expect(edited).toBe(2 * PIXELS);
    expect(await x.data()).toEqual(new Float32Array(2 * PIXELS).fill(0.5));
    x.dispose();
    process.env.RUNNER_UPLOAD = 'stock';
    expect(residentImages(train, PIXELS, CLASS_COUNT)).toBeUndefined();
  });

  it('train a trial as batches gathered on the CPU do', async () => {
    const file = join(tempDir(), 'resident.yaml');
    writeFileSync(
      file,
      `name: resident
backend: webgpu
data: { trainLimit: 48, testLimit: 30 }
model:
  layers:
    - { type: conv2d, filters: 4, kernelSize: 3, activation: relu }
    - { type: flatten }
    - { type: dense, units: 10, activation: softmax }
train: { epochs: 2, batchSize: 16, seed: 3, optimizer: { name: adam, learningRate: 0.01 } }
`,
    );
    const [trial] = expandTrials(loadExperiment(file));
    const dataset = await loadDataset({});
    const onGpu = await runTrial(trial!.config, dataset);
    process.env.RUNNER_UPLOAD = 'stock';
    const cpuGathered = await runTrial(trial!.config, dataset);
    expect(onGpu.outcome).toBe('completed');
    // Same batches, so the same training; losses are compared to 1e-6 only because tfjs-webgpu's split-K matrix
    // product adds with atomics, in whatever order the threads arrive (two runs of the same path differ by ~1e-8).
    expect(onGpu.epochs).toHaveLength(2);
    onGpu.epochs.forEach((epoch, i) => {
      const other = cpuGathered.epochs[i]!;
      expect(epoch.accuracy).toBe(other.accuracy);
      expect(epoch.valAccuracy).toBe(other.valAccuracy);
      expect(epoch.loss).toBeCloseTo(other.loss, 6);
      expect(epoch.valLoss).toBeCloseTo(other.valLoss, 6);
    });
    expect(onGpu.test?.accuracy).toBe(cpuGathered.test?.accuracy);
    expect(onGpu.test?.confusion).toEqual(cpuGathered.test?.confusion);
  });
});
