import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { installDawn } from '../src/backend/webgpu/dawn.js';
import { conv2DBackpropFilterConfig, planSplits, TILE } from '../src/backend/webgpu-training/conv2d-backprop-filter.js';
import { registerWebGpuTrainingKernels } from '../src/backend/webgpu-training/index.js';
import { convCases, relativeError } from './helpers/numeric.js';

/**
 * The runner's WebGPU kernels against the cpu backend, on SwiftShader (Vulkan on the CPU) where there is no GPU:
 * the conv2d filter gradient over the wasm test's shapes, the seed CNN's two layers, shapes that need several
 * K-splits and partial tiles, and every attribute the kernel reads (explicit and numeric padding with each
 * rounding mode, dilations, NCHW handed to webgpu's own kernel), to 1e-4 relative error.
 */
// Read by the Vulkan loader when Dawn starts (inside installDawn, after these imports).
process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
type Case = { kernel: number; stride: number; pad: Pad; batch: number; height: number; width: number; inC: number; outC: number };

const cases: Case[] = convCases();
// The seed CNN's two convolutions at batch 8 (M = 9 and 288 filter taps, N = 32 and 64 channels).
cases.push({ kernel: 3, stride: 1, pad: 'same', batch: 8, height: 28, width: 28, inC: 1, outC: 32 });
cases.push({ kernel: 3, stride: 1, pad: 'same', batch: 8, height: 14, width: 14, inC: 32, outC: 64 });
// M = 45 and N = 40 (two tiles each, the second partial) over 2,400 positions in several splits; then the same
// with stride 2, 'valid' windows that leave the last input row and column unread, and M = 112, N = 37.
cases.push({ kernel: 3, stride: 1, pad: 'same', batch: 6, height: 20, width: 20, inC: 5, outC: 40 });
cases.push({ kernel: 4, stride: 2, pad: 'valid', batch: 5, height: 21, width: 19, inC: 7, outC: 37 });
// Explicit padding, uneven on each side.
cases.push({ kernel: 3, stride: 2, pad: [[0, 0], [1, 2], [2, 0], [0, 0]], batch: 3, height: 11, width: 10, inC: 4, outC: 6 });


const seeded = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

/** The filter gradient of a weighted sum of conv2d: the path training takes. */
function filterGradient(c: Case): tf.Tensor {
  return tf.tidy(() => {
    const x = seeded([c.batch, c.height, c.width, c.inC], 1) as tf.Tensor4D;
    const filter = seeded([c.kernel, c.kernel, c.inC, c.outC], 2);
    return tf.grad((f: tf.Tensor) => {
      const y = tf.conv2d(x, f as tf.Tensor4D, c.stride, c.pad);
      return tf.sum(tf.mul(y, seeded(y.shape, 4)));
    })(filter);
  });
}

type KernelAttrs = { strides: number; pad: Pad; dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode?: 'floor' | 'round' | 'ceil'; dilations?: number };
type DirectCase = { name: string; xShape: [number, number, number, number]; filterShape: [number, number, number, number]; attrs: KernelAttrs };

/** Attributes tf.conv2d's gradient never passes: the kernel run directly. */
const direct: DirectCase[] = [
  ...(['floor', 'round', 'ceil'] as const).map((mode): DirectCase => ({ name: `numeric pad 1, stride 2, ${mode}`, xShape: [2, 10, 9, 3], filterShape: [3, 2, 3, 5], attrs: { strides: 2, pad: 1, dataFormat: 'NHWC', dimRoundingMode: mode } })),
  { name: 'NCHW (webgpu\'s own kernel)', xShape: [2, 3, 9, 8], filterShape: [3, 3, 3, 5], attrs: { strides: 1, pad: 'same', dataFormat: 'NCHW' } },
];

function dyShape(xShape: [number, number, number, number], filterShape: [number, number, number, number], attrs: KernelAttrs): number[] {
  const format = attrs.dataFormat === 'NCHW' ? 'channelsFirst' : 'channelsLast';
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode, false, format);
  return info.outShape;
}

function runDirect(c: DirectCase, seed: number): tf.Tensor {
  return tf.tidy(() => {
    const x = seeded(c.xShape, seed);
    const dy = seeded(dyShape(c.xShape, c.filterShape, c.attrs), seed + 1);
    return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...c.attrs, filterShape: c.filterShape } as unknown as tf.NamedAttrMap) as tf.Tensor;
  });
}

async function values(tensors: tf.Tensor[]): Promise<Float32Array[]> {
  const read = await Promise.all(tensors.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(tensors);
  return read;
}

let backend: WebGPUBackend;
const programs: WebGPUProgram[] = [];

beforeAll(async () => {
  // As activateBackend does: no per-op debug checks, no "install tfjs-node" banner from the cpu backend.
  tf.enableProdMode();
  await installDawn();
  await import('@tensorflow/tfjs-backend-webgpu');
  registerWebGpuTrainingKernels();
  registerWebGpuTrainingKernels();
  expect(await tf.setBackend('webgpu')).toBe(true);
  backend = tf.backend() as WebGPUBackend;
  const run = backend.runWebGPUProgram.bind(backend);
  vi.spyOn(backend, 'runWebGPUProgram').mockImplementation((program, ...rest) => {
    programs.push(program);
    return run(program, ...rest);
  });
});

afterAll(() => vi.restoreAllMocks());

/** The programs run (by their key before the library extends it) while `f` ran on webgpu. */
async function onWebGpu<T>(f: () => Promise<T>): Promise<{ result: T; ran: { key: string; splits?: number }[] }> {
  await tf.setBackend('webgpu');
  const from = programs.length;
  const result = await f();
  const ran = programs.slice(from).map((p) => ({ key: p.shaderKey.split('_')[0]!, splits: (p as { splits?: number }).splits }));
  return { result, ran };
}

describe('webgpu training kernels agree with the cpu backend', () => {
  it('are registered in place of webgpu\'s own', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'webgpu')).toBe(conv2DBackpropFilterConfig);
  });

  it(`conv2d filter gradient over ${cases.length} shapes (kernels 1–7, strides 1–2, same/valid/explicit, batch 1–32, the seed CNN's layers, several splits)`, async () => {
    await tf.setBackend('cpu');
    const expected = await values(cases.map(filterGradient));
    const { result: actual, ran } = await onWebGpu(() => values(cases.map(filterGradient)));
    let worst = 0;
    cases.forEach((c, i) => {
      const error = relativeError(expected[i]!, actual[i]!);
      worst = Math.max(worst, error);
      expect(error, JSON.stringify(c)).toBeLessThan(1e-4);
    });
    // The replacement ran for every case, sometimes in one split and sometimes in many; the stock kernel never did.
    const tiled = ran.filter((p) => p.key === 'conv2DBackpropFilterTiled');
    expect(tiled).toHaveLength(cases.length);
    expect(ran.filter((p) => p.key === 'conv2DDerFilter')).toHaveLength(0);
    expect(tiled.some((p) => p.splits === 1)).toBe(true);
    expect(Math.max(...tiled.map((p) => p.splits!))).toBeGreaterThan(4);
    expect(ran.filter((p) => p.key === 'conv2DBackpropFilterSumSplits')).toHaveLength(tiled.filter((p) => p.splits! > 1).length);
    console.log(`worst relative error of the filter gradient: ${worst.toExponential(2)}; splits per case: ${tiled.map((p) => p.splits).join(' ')}`);
  });

  it('numeric padding under each rounding mode, and NCHW through webgpu\'s own kernel', async () => {
    await tf.setBackend('cpu');
    const expected = await values(direct.map((c, i) => runDirect(c, 100 + 10 * i)));
    const { result: actual, ran } = await onWebGpu(() => values(direct.map((c, i) => runDirect(c, 100 + 10 * i))));
    direct.forEach((c, i) => expect(relativeError(expected[i]!, actual[i]!), c.name).toBeLessThan(1e-4));
    expect(ran.filter((p) => p.key === 'conv2DDerFilter')).toHaveLength(1);
  });

  it('dilations, which the cpu kernel ignores, against the sum written out', async () => {
    const c: DirectCase = { name: 'dilation 2', xShape: [2, 9, 8, 3], filterShape: [3, 2, 3, 4], attrs: { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 2 } };
    const info = tf.backend_util.computeConv2DInfo(c.xShape, c.filterShape, 1, 2, 'same');
    await tf.setBackend('cpu');
    const [x, dy] = await values([seeded(c.xShape, 30), seeded(info.outShape, 31)]);
    const { result: [actual] } = await onWebGpu(() => values([runDirect(c, 30)]));
    const [kh, kw, ci, co] = c.filterShape;
    const [n, h, w] = c.xShape;
    const expected = new Float32Array(kh * kw * ci * co);
    for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) for (let d = 0; d < ci; d++) for (let e = 0; e < co; e++) {
      let sum = 0;
      for (let s = 0; s < n; s++) for (let i = 0; i < info.outHeight; i++) for (let j = 0; j < info.outWidth; j++) {
        const row = i + a * 2 - info.padInfo.top;
        const col = j + b * 2 - info.padInfo.left;
        if (row < 0 || row >= h || col < 0 || col >= w) continue;
        sum += x![((s * h + row) * w + col) * ci + d]! * dy![((s * info.outHeight + i) * info.outWidth + j) * co + e]!;
      }
      expected[((a * kw + b) * ci + d) * co + e] = sum;
    }
    expect(relativeError(expected, actual!)).toBeLessThan(1e-4);
  });

  it('cuts the reduction into splits that cover it exactly, about 512 workgroups for the seed CNN', () => {
    for (const [m, n, k] of [[9, 32, 128 * 28 * 28], [288, 64, 128 * 14 * 14], [9, 32, 512 * 28 * 28], [288, 64, 512 * 14 * 14], [4608, 512, 4096], [9, 4, 0], [45, 40, 2400], [27, 4, 10]] as const) {
      const { splits, kPerSplit } = planSplits(m, n, k);
      expect(kPerSplit % TILE).toBe(0);
      expect(splits * kPerSplit).toBeGreaterThanOrEqual(k);
      if (k > 0) expect((splits - 1) * kPerSplit).toBeLessThan(k);
      const workgroups = splits * Math.ceil(m / TILE) * Math.ceil(n / TILE);
      if (k >= 512 * TILE * 4) expect(workgroups).toBeGreaterThan(256);
      expect(workgroups).toBeLessThanOrEqual(Math.max(512 + Math.ceil(m / TILE) * Math.ceil(n / TILE), Math.ceil(m / TILE) * Math.ceil(n / TILE)));
    }
  });
});
