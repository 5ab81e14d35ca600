import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { activateBackend } from '../src/backend/select.js';
import { MAX_COLUMN_ROWS } from '../src/backend/webgpu-training/column-sum.js';
import { relativeError, seeded } from './helpers/numeric.js';

/**
 * webgpu's one-dispatch gradients of ReLU and softmax, and its one-dispatch sum over leading axes (a dense layer's
 * bias gradient), against tfjs's own on the cpu backend. Runs on SwiftShader where there is no GPU.
 */

process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';

function values(seed: number, size: number): number[] {
  const random = seeded(seed);
  return Array.from({ length: size }, () => (random() - 0.5) * 4);
}

/** ReLU inputs with exact zeros and a NaN, upstream gradients of both signs. */
const RELU_X = [...values(1, 61), 0, -0, Number.NaN, 1e-30, -1e-30];
const RELU_DY = values(2, RELU_X.length);
const SOFTMAX_SHAPE = [37, 10];
const SUM_CASES: { shape: number[]; axis: number[]; keepDims: boolean }[] = [
  { shape: [1, 5], axis: [0], keepDims: false },
  { shape: [37, 10], axis: [0], keepDims: true },
  { shape: [512, 128], axis: [0], keepDims: false },
  { shape: [3, 4, 5], axis: [1, 0], keepDims: false },
  // More rows than one thread adds: webgpu's own Sum.
  { shape: [MAX_COLUMN_ROWS + 3, 2], axis: [0], keepDims: false },
  // Not the leading axes: webgpu's own Sum.
  { shape: [6, 7], axis: [1], keepDims: false },
];

async function compute(): Promise<{ relu: Float32Array; softmax: Float32Array; sums: { values: Float32Array; shape: number[] }[] }> {
  const x = tf.tensor1d(RELU_X);
  const dy = tf.tensor1d(RELU_DY);
  const relu = tf.grad((input: tf.Tensor) => tf.relu(input).mul(dy).sum())(x);
  const logits = tf.tensor2d(values(3, 370), SOFTMAX_SHAPE as [number, number]);
  const weights = tf.tensor2d(values(4, 370), SOFTMAX_SHAPE as [number, number]);
  const softmax = tf.grad((input: tf.Tensor) => tf.softmax(input).mul(weights).sum())(logits);
  const sums = SUM_CASES.map((c, i) => tf.sum(tf.tensor(values(10 + i, tf.util.sizeFromShape(c.shape)), c.shape), c.axis, c.keepDims));
  const result = {
    relu: (await relu.data()) as Float32Array,
    softmax: (await softmax.data()) as Float32Array,
    sums: await Promise.all(sums.map(async (s) => ({ values: (await s.data()) as Float32Array, shape: s.shape }))),
  };
  tf.dispose([x, dy, relu, logits, weights, softmax, ...sums]);
  return result;
}

let reference: Awaited<ReturnType<typeof compute>>;
let actual: Awaited<ReturnType<typeof compute>>;
const dispatches: string[] = [];

beforeAll(async () => {
  await activateBackend('cpu');
  reference = await compute();
  await activateBackend('webgpu');
  const backend = tf.backend() as WebGPUBackend;
  const run = backend.runWebGPUProgram.bind(backend);
  backend.runWebGPUProgram = (program, ...rest) => {
    dispatches.push(program.shaderKey);
    return run(program, ...rest);
  };
  actual = await compute();
});

describe('webgpu activation gradients and leading-axis sums match the cpu backend', () => {
  it('ReLU: dy where x > 0, zero (of dy\'s sign) elsewhere, NaN at NaN, in one dispatch', () => {
    expect(dispatches.filter((key) => key === 'runnerReluGrad')).toHaveLength(1);
    for (let i = 0; i < RELU_X.length; i++) expect(Object.is(actual.relu[i], reference.relu[i]), `x = ${RELU_X[i]}`).toBe(true);
  });

  it('softmax over the last axis, in one dispatch', () => {
    expect(dispatches.filter((key) => key === 'runnerSoftmaxGrad')).toHaveLength(1);
    expect(relativeError(reference.softmax, actual.softmax)).toBeLessThan(1e-6);
  });

  it('sums over the leading axes in one dispatch, and hands the others to webgpu\'s own Sum', () => {
    expect(dispatches.filter((key) => key === 'runnerColumnSum')).toHaveLength(4);
    for (const [i, c] of SUM_CASES.entries()) {
      expect(actual.sums[i]!.shape, JSON.stringify(c)).toEqual(reference.sums[i]!.shape);
      expect(relativeError(reference.sums[i]!.values, actual.sums[i]!.values), JSON.stringify(c)).toBeLessThan(1e-5);
    }
  });
});
