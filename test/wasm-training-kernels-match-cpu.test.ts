import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { activateBackend } from '../src/backend/select.js';
import { convCases, relativeError, type ConvCase } from './helpers/numeric.js';

/**
 * Every kernel the runner registers for wasm, checked against the cpu backend on random inputs:
 * gradients of conv2d, depthwise conv2d, max-pool and transposed matMul agree to 1e-4 relative error, and tile,
 * sum and mean (which batch normalization leans on) match too.
 */
type Case = ConvCase;
const cases = convCases();


/** Gradients of every op under test for one case, as plain arrays (so both backends can be compared). */
function gradients(c: Case): Record<string, Float32Array> {
  return tf.tidy(() => {
    const seeded = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);
    const x = seeded([c.batch, c.height, c.width, c.inC], 1);
    const filter = seeded([c.kernel, c.kernel, c.inC, c.outC], 2);
    const depthFilter = seeded([c.kernel, c.kernel, c.inC, 2], 3);
    const weigh = (y: tf.Tensor, seed: number) => tf.sum(tf.mul(y, seeded(y.shape, seed)));
    const [convDx, convDw] = tf.grads((a: tf.Tensor, f: tf.Tensor) => weigh(tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, c.stride, c.pad), 4))([x, filter]);
    const [depthDx, depthDw] = tf.grads((a: tf.Tensor, f: tf.Tensor) => weigh(tf.depthwiseConv2d(a as tf.Tensor4D, f as tf.Tensor4D, c.stride, c.pad), 5))([x, depthFilter]);
    // Negated absolute values make every window all-negative: the case wasm's own MaxPoolGrad got wrong.
    const poolNegative = tf.grad((a: tf.Tensor) => weigh(tf.maxPool(tf.neg(tf.abs(a)) as tf.Tensor4D, c.kernel, c.stride, c.pad), 6))(x);
    const poolMixed = tf.grad((a: tf.Tensor) => weigh(tf.maxPool(a as tf.Tensor4D, c.kernel, c.stride, c.pad), 7))(x);
    // 2×2 windows at stride 2 over an even crop tile the input exactly: the kernel's fast path.
    const even = x.slice([0, 0, 0, 0], [c.batch, c.height - (c.height % 2), c.width - (c.width % 2), c.inC]) as tf.Tensor4D;
    const poolTiled = tf.grad((a: tf.Tensor) => weigh(tf.maxPool(tf.relu(a) as tf.Tensor4D, 2, 2, 'valid'), 10))(even);
    const flat = x.reshape([c.batch, -1]);
    const [matA, matB] = tf.grads((a: tf.Tensor, b: tf.Tensor) => weigh(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), 8))([flat, seeded([flat.shape[1]!, 5], 9)]);
    const out: Record<string, tf.Tensor> = { convDx, convDw, depthDx, depthDw, poolNegative, poolMixed, poolTiled, matA, matB };
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.dataSync() as Float32Array]));
  });
}

describe('wasm training kernels agree with the cpu backend', () => {
  it(`conv2d, depthwise, max-pool and matMul gradients over ${cases.length} shapes (kernels 1–7, strides 1–2, same/valid, batch 1–32)`, async () => {
    await activateBackend('cpu');
    const expected = cases.map(gradients);
    await activateBackend('wasm');
    const worst: Record<string, number> = {};
    cases.forEach((c, i) => {
      const actual = gradients(c);
      for (const [name, values] of Object.entries(expected[i]!)) {
        const error = relativeError(values, actual[name]!);
        worst[name] = Math.max(worst[name] ?? 0, error);
        expect(error, `${name} ${JSON.stringify(c)}`).toBeLessThan(1e-4);
      }
    });
    // The all-negative windows really do carry gradient (wasm 4.22's own kernel returned zeros here).
    expect(Math.max(...expected[0]!.poolNegative!.map(Math.abs))).toBeGreaterThan(0);
    console.log('worst relative error per gradient:', worst);
  });

  it('tile copies exactly what the cpu backend does, for every rank, dtype and repeat pattern, and batch normalization trains through it', async () => {
    const tileCases: { shape: number[]; reps: number[] }[] = [
      { shape: [1, 1, 1, 5], reps: [3, 4, 2, 1] }, // batch normalization's statistics over an activation
      { shape: [2, 3, 4, 5], reps: [2, 1, 3, 2] },
      { shape: [3], reps: [4] },
      { shape: [2, 3], reps: [1, 1] },
      { shape: [4, 1, 3], reps: [1, 5, 1] },
      { shape: [2, 0, 3], reps: [2, 2, 2] },
      { shape: [1, 2, 1, 1, 3], reps: [2, 1, 3, 2, 1] },
    ];
    const tiled = () =>
      tileCases.flatMap(({ shape, reps }) =>
        tf.tidy(() => {
          const x = tf.randomNormal(shape, 0, 1, 'float32', 12);
          return [tf.tile(x, reps), tf.tile(tf.cast(tf.mul(x, 10), 'int32'), reps), tf.tile(tf.greater(x, 0), reps)].map((t) => ({ dtype: t.dtype, shape: t.shape, values: Array.from(t.dataSync()) }));
        }),
      );
    const normGradient = () =>
      tf.tidy(() => {
        const x = tf.randomNormal([6, 5, 5, 4], 0, 1, 'float32', 13);
        const [mean, variance] = [tf.randomNormal([4], 0, 1, 'float32', 14), tf.randomUniform([4], 0.5, 2, 'float32', 15)];
        const [scale, offset] = [tf.randomNormal([4], 0, 1, 'float32', 16), tf.randomNormal([4], 0, 1, 'float32', 17)];
        const weights = tf.randomNormal(x.shape, 0, 1, 'float32', 18);
        const grads = tf.grads((a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: tf.Tensor, o: tf.Tensor) =>
          tf.sum(tf.mul(tf.batchNorm(a as tf.Tensor4D, m as tf.Tensor1D, v as tf.Tensor1D, o as tf.Tensor1D, s as tf.Tensor1D), weights)),
        )([x, mean, variance, scale, offset]);
        return grads.map((g) => g.dataSync() as Float32Array);
      });
    await activateBackend('cpu');
    const [expectedTiles, expectedNorm] = [tiled(), normGradient()];
    await activateBackend('wasm');
    expect(tiled()).toEqual(expectedTiles);
    normGradient().forEach((gradient, i) => expect(relativeError(expectedNorm[i]!, gradient)).toBeLessThan(1e-4));
  });

  it('sum and mean agree with the cpu backend over leading, inner and mixed axes, with and without keepDims', async () => {
    const reductions = () =>
      tf.tidy(() => {
        const x = tf.randomNormal([6, 5, 4, 3], 1, 2, 'float32', 19);
        const results: { shape: number[]; values: Float32Array }[] = [];
        for (const axis of [0, [0, 1], [0, 1, 2], [1, 0], -1, [1, 2], [0, 2], [0, 1, 2, 3]]) {
          for (const keepDims of [false, true]) {
            for (const reduced of [tf.sum(x, axis, keepDims), tf.mean(x, axis, keepDims)]) results.push({ shape: reduced.shape, values: reduced.dataSync() as Float32Array });
          }
        }
        results.push({ shape: [], values: tf.sum(tf.cast(tf.greater(x, 0), 'int32'), [0, 1]).dataSync() as unknown as Float32Array });
        return results;
      });
    await activateBackend('cpu');
    const expected = reductions();
    await activateBackend('wasm');
    reductions().forEach((actual, i) => {
      expect(actual.shape, `reduction ${i}`).toEqual(expected[i]!.shape);
      expect(relativeError(expected[i]!.values, actual.values), `reduction ${i}`).toBeLessThan(1e-5);
    });
  });

  it('a small CNN trains on wasm: loss falls, and no tensor leaks across steps', async () => {
    await activateBackend('wasm');
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3, strides: 2, activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
        tf.layers.separableConv2d({ filters: 4, kernelSize: 3, padding: 'same', depthwiseInitializer: tf.initializers.glorotUniform({ seed: 2 }), pointwiseInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
    const x = tf.randomUniform([24, 12, 12, 1], 0, 1, 'float32', 5);
    const y = tf.tensor1d(Array.from({ length: 24 }, (_, i) => i % 3), 'float32');
    const first = (await model.trainOnBatch(x, y)) as number;
    const live = tf.memory().numTensors;
    let last = first;
    for (let step = 0; step < 30; step++) last = (await model.trainOnBatch(x, y)) as number;
    expect(tf.memory().numTensors).toBe(live);
    expect(last).toBeLessThan(first * 0.7);
  });
});
