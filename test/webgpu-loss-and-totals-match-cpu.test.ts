import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { activateBackend, trainingLoss, trainingTotals } from '../src/backend/select.js';
import type { AddTotals, LossFunction } from '../src/backend/training-overrides.js';
import { elementwiseError, seeded } from './helpers/numeric.js';
import { stockAddTotals } from '../src/trial/train-step.js';

/**
 * webgpu's fused crossentropy (one dispatch forward, one backward) and running totals (one dispatch) against
 * tfjs-layers' own loss and the stock ops on the cpu backend. The loss: the per-sample losses and the gradient with respect to the probabilities, for sparse and one-hot
 * targets, with probabilities below ε and above 1−ε (where the clips cut the gradient), rows that do not sum to 1,
 * a label outside the classes and a NaN probability. The totals: summed loss and argMax hits over more samples than
 * the kernel has threads. Runs on SwiftShader where there is no GPU.
 */

process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';

type LossName = 'sparseCategoricalCrossentropy' | 'categoricalCrossentropy';

/** tfjs-layers' compiled loss for `name` (what TrainStep gets from a compiled model). */
function stockLoss(name: LossName): LossFunction {
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [1] })] });
  model.compile({ optimizer: 'sgd', loss: name });
  // A Sequential compiles the functional model it wraps.
  const compiled = model as unknown as { model: { lossFunctions: LossFunction[] } };
  return compiled.model.lossFunctions[0]!;
}

interface Case {
  probs: number[][];
  labels: number[];
}

/** Softmax rows of random logits, then the rows that exercise the edges. */
function cases(): Case {
  const random = seeded(7);
  const probs: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < 37; i++) {
    const logits = Array.from({ length: 10 }, () => (random() - 0.5) * 8);
    const max = Math.max(...logits);
    const exp = logits.map((l) => Math.exp(l - max));
    const sum = exp.reduce((a, b) => a + b, 0);
    probs.push(exp.map((e) => e / sum));
    labels.push(i % 10);
  }
  // Confident and right (the label's probability clipped at 1−ε), confident and wrong (clipped at ε), unnormalised.
  probs.push([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  labels.push(0);
  probs.push([1e-9, 1 - 1e-9, 0, 0, 0, 0, 0, 0, 0, 0]);
  labels.push(0);
  probs.push([0.3, 0.2, 0.4, 0.1, 0.5, 0.05, 0.02, 0.2, 0.1, 0.3]);
  labels.push(4);
  // A label outside the classes: tfjs's one-hot row is all zeros, so loss and gradient are 0.
  probs.push(Array.from({ length: 10 }, () => 0.1));
  labels.push(12);
  return { probs, labels };
}

function oneHot(labels: number[]): number[][] {
  return labels.map((label) => Array.from({ length: 10 }, (_, j) => (j === label ? 1 : 0)));
}

/** Per-sample losses and dLoss/dProbs of `loss`, weighting each sample's loss differently so that dy matters. */
async function lossAndGradient(loss: LossFunction, probs: number[][], targets: tf.Tensor): Promise<{ loss: Float32Array; gradient: Float32Array }> {
  const p = tf.tensor2d(probs);
  const weights = tf.tensor1d(probs.map((_, i) => 0.5 + (i % 3)));
  const perSample = loss(targets, p);
  const gradient = tf.grad((x: tf.Tensor) => loss(targets, x).mul(weights).sum())(p);
  const result = { loss: (await perSample.data()) as Float32Array, gradient: (await gradient.data()) as Float32Array };
  tf.dispose([p, weights, perSample, gradient]);
  return result;
}

async function run(name: LossName, fused: boolean, { probs, labels }: Case) {
  const targets = name === 'sparseCategoricalCrossentropy' ? tf.tensor1d(labels) : tf.tensor2d(oneHot(labels));
  const stock = stockLoss(name);
  dispatches = [];
  const result = await lossAndGradient(fused ? trainingLoss(name, stock) : stock, probs, targets);
  targets.dispose();
  return { ...result, dispatches };
}

const NAMES: LossName[] = ['sparseCategoricalCrossentropy', 'categoricalCrossentropy'];

let dispatches: string[] = [];
let reference: Map<LossName, { loss: Float32Array; gradient: Float32Array; dispatches: string[] }>;

/** Totals [7, 11] plus a batch of `samples` rows of random predictions, with sparse or one-hot targets. */
async function totalsOf(add: AddTotals, samples: number, sparse: boolean): Promise<Float32Array> {
  const random = seeded(samples);
  const predictions = tf.tensor2d(Array.from({ length: samples }, () => Array.from({ length: 10 }, () => random())));
  const labels = Array.from({ length: samples }, (_, i) => (i * 3) % 10);
  const targets = sparse ? tf.tensor1d(labels) : tf.tensor2d(oneHot(labels));
  const perSample = tf.tensor1d(Array.from({ length: samples }, () => random() * 3));
  const totals = tf.tensor1d([7, 11]);
  const result = add(totals, perSample, predictions, targets);
  const values = (await result.data()) as Float32Array;
  tf.dispose([predictions, targets, perSample, totals, result]);
  return values;
}
const TOTALS_CASES = [1, 37, 300, 512].flatMap((samples) => [true, false].map((sparse) => ({ samples, sparse })));
let referenceTotals: Float32Array[];

beforeAll(async () => {
  await activateBackend('cpu');
  reference = new Map();
  for (const name of NAMES) reference.set(name, await run(name, false, cases()));
  // The cpu backend has no totals of its own: TrainStep's stock ops run.
  expect(trainingTotals(stockAddTotals)).toBe(stockAddTotals);
  referenceTotals = [];
  for (const c of TOTALS_CASES) referenceTotals.push(await totalsOf(stockAddTotals, c.samples, c.sparse));
  const info = await activateBackend('webgpu');
  expect(info.adapter?.architecture).toBe('swiftshader');
  const backend = tf.backend() as WebGPUBackend;
  const runProgram = backend.runWebGPUProgram.bind(backend);
  backend.runWebGPUProgram = (program, ...rest) => {
    dispatches.push(program.shaderKey);
    return runProgram(program, ...rest);
  };
});

describe('the fused running totals on webgpu match the stock ops on cpu', () => {
  it('summed loss and correct predictions, sparse and one-hot, 1 to 512 samples, in one dispatch', async () => {
    for (const [i, c] of TOTALS_CASES.entries()) {
      dispatches = [];
      const actual = await totalsOf(trainingTotals(stockAddTotals), c.samples, c.sparse);
      expect(dispatches.filter((key) => key.startsWith('runnerAddTotals'))).toHaveLength(1);
      expect(actual[1], `correct, ${JSON.stringify(c)}`).toBe(referenceTotals[i]![1]);
      expect(Math.abs(actual[0]! - referenceTotals[i]![0]!) / referenceTotals[i]![0]!, `loss, ${JSON.stringify(c)}`).toBeLessThan(1e-6);
    }
  });
});

describe('the fused crossentropy on webgpu matches tfjs-layers on cpu', () => {
  for (const name of NAMES) {
    it(`${name}: per-sample losses and gradients, edges included`, async () => {
      const actual = await run(name, true, cases());
      const expected = reference.get(name)!;
      // The fused kernels ran, not a fallback to tfjs-layers' loss on webgpu.
      const kind = name === 'sparseCategoricalCrossentropy' ? 'sparse' : 'dense';
      // Forward for the losses, forward again and backward for the gradient.
      expect(actual.dispatches.filter((key) => key.startsWith('runnerCrossentropy'))).toEqual([`runnerCrossentropy_${kind}`, `runnerCrossentropy_${kind}`, `runnerCrossentropyGrad_${kind}`]);
      // Element by element: the gradients span six orders of magnitude. A confident right answer's loss is −log(1−ε),
      // about 1.2e-7, which the GPU's log gives within 1.2e-7 (float32's step near 1): losses below 0.1 are compared
      // in absolute terms, to 1e-6.
      console.log(`${name}: worst error per element, loss ${elementwiseError(expected.loss, actual.loss, 0.1).toExponential(1)}, gradient ${elementwiseError(expected.gradient, actual.gradient).toExponential(1)}`);
      expect(elementwiseError(expected.loss, actual.loss, 0.1)).toBeLessThan(1e-5);
      expect(elementwiseError(expected.gradient, actual.gradient)).toBeLessThan(1e-5);
      // The clipped rows really cut the gradient, on both backends.
      const confident = 37 * 10;
      expect(Array.from(expected.gradient.slice(confident, confident + 10)).every((g) => g === 0)).toBe(true);
      expect(Array.from(actual.gradient.slice(confident, confident + 10)).every((g) => g === 0)).toBe(true);
    });
  }

  it('one dispatch forward and one backward, where the stock loss takes dozens', async () => {
    const p = tf.tensor2d(cases().probs);
    const targets = tf.tensor1d(cases().labels);
    const weights = tf.onesLike(targets);
    const stock = stockLoss('sparseCategoricalCrossentropy');
    const countFor = (loss: LossFunction): string[] => {
      dispatches = [];
      const gradient = tf.grad((x: tf.Tensor) => loss(targets, x).mul(weights).sum())(p);
      gradient.dispose();
      return dispatches;
    };
    const stockKeys = countFor(stock);
    const fusedKeys = countFor(trainingLoss('sparseCategoricalCrossentropy', stock));
    expect(fusedKeys.filter((key) => key.startsWith('runnerCrossentropy'))).toEqual(['runnerCrossentropy_sparse', 'runnerCrossentropyGrad_sparse']);
    // The weighting and summing around the loss are the same in both; the loss itself went from dozens to 2.
    console.log(`dispatches: stock ${stockKeys.length}, fused ${fusedKeys.length}`);
    expect(stockKeys.length - fusedKeys.length).toBeGreaterThanOrEqual(25);
    tf.dispose([p, targets, weights]);
  });

  for (const name of NAMES) {
    it(`${name}: a NaN probability gives a NaN loss, so a diverged trial is still caught`, async () => {
      const probs = cases().probs.slice(0, 3);
      probs[1]![3] = Number.NaN;
      const targets = name === 'sparseCategoricalCrossentropy' ? tf.tensor1d([0, 1, 2]) : tf.tensor2d(oneHot([0, 1, 2]));
      const loss = trainingLoss(name, stockLoss(name));
      const p = tf.tensor2d(probs);
      const values = await loss(targets, p).data();
      expect(Number.isNaN(values[1])).toBe(true);
      expect(Number.isFinite(values[0]) && Number.isFinite(values[2])).toBe(true);
      tf.dispose([targets, p]);
    });
  }
});
