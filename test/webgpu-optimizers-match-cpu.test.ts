import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { installDawn } from '../src/backend/webgpu/dawn.js';
import { relativeError } from './helpers/numeric.js';
import { createOptimizer } from '../src/model/optimizer.js';
import {
  FusedAdam,
  FusedMomentum,
  FusedRMSProp,
  FusedSGD,
  fusedUpdateCounts,
} from '../src/backend/webgpu-training/optimizers.js';
import { chainCounts } from '../src/backend/webgpu-training/fused-update.js';

/**
 * The fused webgpu optimizers (Adam, SGD, momentum, RMSprop) against tfjs's stock optimizers on the cpu backend:
 * same variables and same optimizer state after 5 steps, same losses of a small tfjs-layers model over 4
 * `trainOnBatch` steps, and at most 3 dispatches and no uploads per variable per step. Runs on SwiftShader (Vulkan
 * on the CPU) where there is no GPU.
 */

process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';

let webgpu: WebGPUBackend;

/** Every dispatch and every CPU→GPU upload of tensor data the webgpu backend makes while `counting` is on. */
const counts = { on: false, dispatches: 0, fused: 0, uploads: 0, uploaded: [] as object[] };
async function count<T>(fn: () => T | Promise<T>): Promise<T> {
  Object.assign(counts, { on: true, dispatches: 0, fused: 0, uploads: 0, uploaded: [] });
  const chainsBefore = chainCounts.fused;
  try {
    return await fn();
  } finally {
    counts.on = false;
    // Chained updates (Adam's m, v and variable in one dispatch) are recorded outside tfjs's runWebGPUProgram.
    const chains = chainCounts.fused - chainsBefore;
    counts.fused += chains;
    counts.dispatches += chains;
  }
}

beforeAll(async () => {
  await installDawn();
  await import('@tensorflow/tfjs-backend-webgpu');
  expect(await tf.setBackend('webgpu')).toBe(true);
  webgpu = tf.backend() as WebGPUBackend;
  const run = webgpu.runWebGPUProgram.bind(webgpu);
  webgpu.runWebGPUProgram = (program, ...rest) => {
    if (counts.on) {
      counts.dispatches++;
      if (program.shaderKey.startsWith('fusedOptimizer_')) counts.fused++;
    }
    return run(program, ...rest);
  };
  const upload = webgpu.uploadToGPU.bind(webgpu);
  webgpu.uploadToGPU = (dataId) => {
    const data = webgpu.tensorMap.get(dataId);
    if (counts.on && data.values != null && data.resource == null) {
      counts.uploads++;
      counts.uploaded.push(dataId);
    }
    upload(dataId);
  };
});

function random(seed: number, size: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}


/** A scalar, a bias, a conv kernel, a dense kernel and one of 21,000 elements (many workgroups). */
const SHAPES = [[], [4], [3, 3, 2, 4], [5, 7], [300, 70]];
const STEPS = 5;
const initial = SHAPES.map((shape, i) => random(100 + i, tf.util.sizeFromShape(shape)));
const grads = Array.from({ length: STEPS }, (_, step) =>
  SHAPES.map((shape, i) => random(1000 * step + i, tf.util.sizeFromShape(shape), 0.5 + step)),
);

interface Outcome {
  variables: Float32Array[];
  weights: { name: string; values: Float32Array }[];
  iterations: number;
  /** Per step after the first (which creates the state): dispatches by the fused programs, and uploads other than the gradients. */
  fusedDispatches: number[];
  uploads: number[];
}

let run = 0;

/** `STEPS` steps of `make()` from `initial` with `grads` on `backend`, the gradients alternately as a map and a list. */
async function train(backend: 'cpu' | 'webgpu', make: () => tf.Optimizer, options: { readMidway?: boolean } = {}): Promise<Outcome> {
  await tf.setBackend(backend);
  run++;
  const names = SHAPES.map((_, i) => `opt${run}_${backend}_${i}`);
  const variables = SHAPES.map((shape, i) => tf.tidy(() => tf.variable(tf.tensor(initial[i]!, shape), true, names[i])));
  const optimizer = make();
  const outcome: Outcome = { variables: [], weights: [], iterations: 0, fusedDispatches: [], uploads: [] };
  for (let step = 0; step < STEPS; step++) {
    const tensors = SHAPES.map((shape, i) => tf.tensor(grads[step]![i]!, shape));
    const gradients = step % 2 ? names.map((name, i) => ({ name, tensor: tensors[i]! })) : Object.fromEntries(names.map((name, i) => [name, tensors[i]!]));
    await count(() => optimizer.applyGradients(gradients));
    const gradientIds = new Set(tensors.map((t) => t.dataId));
    if (step > 0) {
      outcome.fusedDispatches.push(counts.fused);
      outcome.uploads.push(counts.uploaded.filter((id) => !gradientIds.has(id)).length);
    }
    tf.dispose(tensors);
    // Reading caches the values on the CPU: later in-place updates must not leave that cache stale.
    if (options.readMidway && step === 1) await Promise.all(variables.map((v) => v.data()));
  }
  outcome.variables = await Promise.all(variables.map(async (v) => (await v.data()) as Float32Array));
  const weights = await optimizer.getWeights();
  outcome.weights = await Promise.all(weights.map(async (w) => ({ name: w.name.replace(/^opt\d+_\w+?_/, ''), values: (await w.tensor.data()) as Float32Array })));
  outcome.iterations = optimizer.iterations;
  optimizer.dispose();
  tf.dispose(variables);
  return outcome;
}

function expectSame(cpu: Outcome, gpu: Outcome): void {
  expect(gpu.iterations).toBe(STEPS);
  for (const [i, reference] of cpu.variables.entries()) expect(relativeError(reference, gpu.variables[i]!), `variable ${i}`).toBeLessThan(1e-5);
  expect(gpu.weights.map((w) => w.name)).toEqual(cpu.weights.map((w) => w.name));
  for (const [i, reference] of cpu.weights.entries()) expect(relativeError(reference.values, gpu.weights[i]!.values), reference.name).toBeLessThan(1e-5);
}

/** `updates`: tensors updated per variable per step, all of them in the variable's one dispatch. */
const cases: { name: string; stock: () => tf.Optimizer; fused: () => tf.Optimizer; updates: number }[] = [
  { name: 'adam (defaults)', stock: () => tf.train.adam(), fused: () => new FusedAdam(), updates: 3 },
  { name: 'adam (lr 0.01, β 0.8/0.95, ε 1e-3)', stock: () => tf.train.adam(0.01, 0.8, 0.95, 1e-3), fused: () => new FusedAdam(0.01, 0.8, 0.95, 1e-3), updates: 3 },
  { name: 'sgd', stock: () => tf.train.sgd(0.05), fused: () => new FusedSGD(0.05), updates: 1 },
  { name: 'momentum 0.9', stock: () => tf.train.momentum(0.05, 0.9), fused: () => new FusedMomentum(0.05, 0.9), updates: 2 },
  { name: 'momentum 0.9 nesterov', stock: () => tf.train.momentum(0.05, 0.9, true), fused: () => new FusedMomentum(0.05, 0.9, true), updates: 2 },
  { name: 'rmsprop', stock: () => tf.train.rmsprop(0.01), fused: () => new FusedRMSProp(0.01), updates: 3 },
  { name: 'rmsprop (ρ 0.8, momentum 0.9, ε 1e-4)', stock: () => tf.train.rmsprop(0.01, 0.8, 0.9, 1e-4), fused: () => new FusedRMSProp(0.01, 0.8, 0.9, 1e-4), updates: 3 },
  // tfjs subtracts ε under the root when centered (√(ms − (mg² + ε))): a larger ε gives NaN on both backends.
  { name: 'rmsprop centered', stock: () => tf.train.rmsprop(0.01, 0.9, 0.5, 1e-10, true), fused: () => new FusedRMSProp(0.01, 0.9, 0.5, 1e-10, true), updates: 4 },
];

describe('fused webgpu optimizers give the stock optimizers numbers', () => {
  for (const c of cases) {
    it(`${c.name}: ${STEPS} steps, variables and getWeights() as on the cpu backend, one dispatch per variable, no uploads`, async () => {
      const cpu = await train('cpu', c.stock);
      const before = { ...fusedUpdateCounts };
      const gpu = await train('webgpu', c.fused, { readMidway: true });
      expectSame(cpu, gpu);
      expect(gpu.fusedDispatches).toEqual(Array(STEPS - 1).fill(SHAPES.length));
      expect(gpu.uploads).toEqual(Array(STEPS - 1).fill(0));
      // Each buffer was the variable's alone: every update was written in place.
      expect(fusedUpdateCounts.copied).toBe(before.copied);
      expect(fusedUpdateCounts.inPlace - before.inPlace).toBe(STEPS * c.updates * SHAPES.length);
    });
  }

  it('keeps the class names and configs, falls back to stock off webgpu, and maps the runner settings', async () => {
    expect(new FusedAdam().getClassName()).toBe('Adam');
    expect(new FusedSGD(0.1).getClassName()).toBe('SGD');
    expect(new FusedMomentum(0.1, 0.9).getClassName()).toBe('Momentum');
    expect(new FusedRMSProp(0.1).getClassName()).toBe('RMSProp');
    expect(new FusedAdam(0.01, 0.8, 0.95, 1e-3).getConfig()).toEqual(tf.train.adam(0.01, 0.8, 0.95, 1e-3).getConfig());
    expect(new FusedRMSProp(0.01, 0.8, 0.9).getConfig()).toEqual(tf.train.rmsprop(0.01, 0.8, 0.9).getConfig());
    // The runner's settings, on webgpu: fused where there is a fused update, tfjs's own class elsewhere.
    await tf.setBackend('webgpu');
    expect(createOptimizer({ name: 'adam', learningRate: 0.002 })).toBeInstanceOf(FusedAdam);
    expect(createOptimizer({ name: 'sgd', learningRate: 0.1 })).toBeInstanceOf(FusedSGD);
    expect(createOptimizer({ name: 'sgd', learningRate: 0.1, momentum: 0.9 })).toBeInstanceOf(FusedMomentum);
    const rmsprop = createOptimizer({ name: 'rmsprop', learningRate: 0.1, rho: 0.8 });
    expect(rmsprop).toBeInstanceOf(FusedRMSProp);
    expect(rmsprop.getConfig()).toEqual(tf.train.rmsprop(0.1, 0.8).getConfig());
    for (const name of ['adagrad', 'adadelta', 'adamax'] as const) expect(createOptimizer({ name, learningRate: 0.1 }).constructor).toBe(tf.train[name](0.1).constructor);
    // On the cpu backend the fused classes are the stock optimizers.
    const cpu = await train('cpu', () => tf.train.adam(0.01));
    expectSame(cpu, await train('cpu', () => new FusedAdam(0.01)));
    await tf.setBackend('webgpu');
  });

  it('writes a copy where another tensor shares the buffer, and resumes from setWeights like the stock Adam', async () => {
    const cpu = await train('cpu', () => tf.train.adam(0.01));
    await tf.setBackend('webgpu');
    const names = SHAPES.map((_, i) => `resume_${i}`);
    const variables = SHAPES.map((shape, i) => tf.tidy(() => tf.variable(tf.tensor(initial[i]!, shape), true, names[i])));
    const step = (optimizer: tf.Optimizer, s: number) =>
      tf.tidy(() => optimizer.applyGradients(Object.fromEntries(names.map((name, i) => [name, tf.tensor(grads[s]![i]!, SHAPES[i]!)]))));
    const first = new FusedAdam(0.01);
    const clones = variables.map((v) => tf.clone(v));
    for (let s = 0; s < 3; s++) step(first, s);
    // The clones kept the initial values: the first step wrote the variables' new values elsewhere.
    for (const [i, clone] of clones.entries()) expect(Array.from(await clone.data())).toEqual(Array.from(initial[i]!));
    const saved = await Promise.all((await first.getWeights()).map(async (w) => ({ name: w.name, tensor: tf.tensor(await w.tensor.data(), w.tensor.shape, w.tensor.dtype) })));
    const savedValues = await Promise.all(saved.map(async (w) => Array.from(await w.tensor.data())));
    first.dispose();
    const second = new FusedAdam(0.01);
    await second.setWeights(saved);
    expect(second.iterations).toBe(3);
    for (let s = 3; s < STEPS; s++) step(second, s);
    for (const [i, w] of saved.entries()) expect(Array.from(await w.tensor.data()), w.name).toEqual(savedValues[i]);
    for (const [i, v] of variables.entries()) expect(relativeError(cpu.variables[i]!, await v.data()), `variable ${i}`).toBeLessThan(1e-5);
    const weights = await second.getWeights();
    for (const [i, reference] of cpu.weights.entries()) expect(relativeError(reference.values, await weights[i]!.tensor.data()), reference.name).toBeLessThan(1e-5);
    second.dispose();
    tf.dispose([...variables, ...clones, ...saved.map((w) => w.tensor)]);
  });
});

describe('in-place updates and reads', () => {
  it('a read still in flight during a step neither sees the update nor leaves a stale value behind', async () => {
    await tf.setBackend('webgpu');
    const v = tf.tidy(() => tf.variable(tf.tensor([1, 2, 3, 4]), true, 'pendingRead'));
    const optimizer = new FusedSGD(0.5);
    const step = () => tf.tidy(() => optimizer.applyGradients({ pendingRead: tf.tensor([2, 2, 2, 2]) }));
    // After a step the values live on the GPU only, so the read below has to wait for the device.
    step();
    const pending = v.data();
    step();
    expect(Array.from(await pending)).toEqual([0, 1, 2, 3]);
    expect(Array.from(await v.data())).toEqual([-1, 0, 1, 2]);
    step();
    expect(Array.from(await v.data())).toEqual([-2, -1, 0, 1]);
    optimizer.dispose();
    v.dispose();
  });

  it('so does one during a chained update (Adam: m, v and the variable in one dispatch), which then writes copies', async () => {
    const reference = await train('cpu', () => tf.train.adam(0.1));
    await tf.setBackend('webgpu');
    const names = SHAPES.map((_, i) => `chainRead_${i}`);
    const variables = SHAPES.map((shape, i) => tf.tidy(() => tf.variable(tf.tensor(initial[i]!, shape), true, names[i])));
    const optimizer = new FusedAdam(0.1);
    const before = { chains: chainCounts.fused, copied: fusedUpdateCounts.copied };
    for (let step = 0; step < STEPS; step++) {
      const tensors = SHAPES.map((shape, i) => tf.tensor(grads[step]![i]!, shape));
      // On odd steps a read of every variable is in flight across the update: it must see the values before it.
      const current = step % 2 ? await Promise.all(variables.map((v) => v.data())) : undefined;
      const pending = step % 2 ? variables.map((v) => v.data()) : undefined;
      optimizer.applyGradients(Object.fromEntries(names.map((name, i) => [name, tensors[i]!])));
      if (pending) for (const [i, values] of (await Promise.all(pending)).entries()) expect(Array.from(values), `step ${step}, variable ${i}`).toEqual(Array.from(current![i]!));
      tf.dispose(tensors);
    }
    const final = await Promise.all(variables.map((v) => v.data()));
    for (const [i, values] of reference.variables.entries()) expect(relativeError(values, final[i]!), `variable ${i}`).toBeLessThan(1e-5);
    // Even steps ran chained in place; odd ones, with reads in flight, wrote copies of the variables.
    expect(chainCounts.fused - before.chains).toBe(3 * SHAPES.length);
    expect(fusedUpdateCounts.copied - before.copied).toBe(2 * SHAPES.length);
    optimizer.dispose();
    tf.dispose(variables);
  });
});

/** conv2d 3×3 → flatten → dense 10 softmax, the same initial weights on every backend. */
function smallModel(optimizer: tf.Optimizer, weights?: tf.Tensor[]): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, activation: 'relu' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  if (weights) tf.tidy(() => model.setWeights(weights.map((w) => w.clone())));
  return model;
}

async function trainModel(backend: 'cpu' | 'webgpu', optimizer: () => tf.Optimizer, initialWeights: { values: Float32Array; shape: number[] }[]) {
  await tf.setBackend(backend);
  const weights = initialWeights.map((w) => tf.tensor(w.values, w.shape));
  const model = smallModel(optimizer(), weights);
  tf.dispose(weights);
  const x = tf.tensor4d(random(7, 16 * 64), [16, 8, 8, 1]);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: 16 }, (_, i) => (i * 7) % 10), 'int32'), 10).toFloat();
  const losses: number[] = [];
  const perStep: { dispatches: number; fused: number; uploads: number }[] = [];
  for (let step = 0; step < 4; step++) {
    // trainOnBatch also reads the loss back.
    losses.push((await count(() => model.trainOnBatch(x, y))) as number);
    perStep.push({ dispatches: counts.dispatches, fused: counts.fused, uploads: counts.uploads });
  }
  tf.dispose([x, y]);
  model.optimizer.dispose();
  model.dispose();
  return { losses, perStep };
}

describe('a tfjs-layers model trained with the fused Adam', () => {
  it('gives the losses of the stock Adam on the cpu backend over 4 trainOnBatch steps, 1 dispatch per variable', async () => {
    await tf.setBackend('cpu');
    const reference = smallModel(tf.train.adam(0.01));
    const initialWeights = await Promise.all(reference.getWeights().map(async (w) => ({ values: (await w.data()) as Float32Array, shape: w.shape })));
    reference.dispose();
    const cpu = await trainModel('cpu', () => tf.train.adam(0.01), initialWeights);
    const stock = await trainModel('webgpu', () => tf.train.adam(0.01), initialWeights);
    const fused = await trainModel('webgpu', () => new FusedAdam(0.01), initialWeights);
    console.log(`trainOnBatch steps 2–4 on webgpu (SwiftShader), 4 variables: stock Adam ${JSON.stringify(stock.perStep.slice(1))}, fused Adam ${JSON.stringify(fused.perStep.slice(1))}`);
    for (const [i, loss] of cpu.losses.entries()) expect(Math.abs(fused.losses[i]! - loss) / Math.abs(loss), `step ${i}`).toBeLessThan(1e-5);
    for (const step of fused.perStep.slice(1)) expect(step.fused).toBe(initialWeights.length);
    // The optimizer's scalars account for the whole difference in uploads.
    expect(fused.perStep[1]!.uploads).toBeLessThan(stock.perStep[1]!.uploads);
  });
});
