import { expect } from 'vitest';

/** Max absolute difference over the largest magnitude of the reference: how kernels are compared with cpu. */
export function relativeError(reference: ArrayLike<number>, actual: ArrayLike<number>): number {
  expect(actual.length).toBe(reference.length);
  let diff = 0;
  let scale = 1e-6;
  for (let i = 0; i < reference.length; i++) {
    diff = Math.max(diff, Math.abs(reference[i]! - actual[i]!));
    scale = Math.max(scale, Math.abs(reference[i]!));
  }
  return diff / scale;
}

export type ConvCase = { kernel: number; stride: number; pad: 'same' | 'valid'; batch: number; height: number; width: number; inC: number; outC: number };

/**
 * The convolution shapes every training kernel is checked on: kernels 1–7, strides 1–2, same/valid, batch 1–32,
 * and 3 or 9 input channels (the wasm filter gradient changes form at 8).
 */
export function convCases(): ConvCase[] {
  const cases: ConvCase[] = [];
  for (const kernel of [1, 2, 3, 4, 5, 6, 7]) {
    for (const stride of [1, 2]) {
      for (const pad of ['same', 'valid'] as const) {
        const [batch, height, width] = [[1, 9, 7], [5, 13, 11], [32, 8, 8]][(kernel + stride) % 3]!;
        if (pad === 'valid' && (kernel > height || kernel > width)) continue;
        cases.push({ kernel, stride, pad, batch, height, width, inC: kernel % 2 ? 3 : 9, outC: 4 });
      }
    }
  }
  return cases;
}

/** The worst error of any one element, relative to that element (or to `floor`, for elements near zero). */
export function elementwiseError(reference: ArrayLike<number>, actual: ArrayLike<number>, floor = 1e-6): number {
  expect(actual.length).toBe(reference.length);
  let worst = 0;
  for (let i = 0; i < reference.length; i++) {
    if (Number.isNaN(reference[i]) && Number.isNaN(actual[i])) continue;
    worst = Math.max(worst, Math.abs(reference[i]! - actual[i]!) / Math.max(Math.abs(reference[i]!), floor));
  }
  return worst;
}

/** A small seeded generator of numbers in [0, 1), for test inputs that stay the same from run to run. */
export function seeded(seed: number): () => number {
  let state = seed;
  return () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}
