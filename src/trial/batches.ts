import type * as tf from '@tensorflow/tfjs';
import type { UploadTensor } from '../backend/training-overrides.js';
import { CLASS_COUNT, PIXELS, type LabelledImages } from '../data/classes.js';

/** Pixels of the chosen samples, scaled to [0, 1], one 784-float block per sample. */
export function gatherPixels(set: LabelledImages, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * PIXELS);
  for (let n = 0; n < indices.length; n++) {
    const from = indices[n]! * PIXELS;
    for (let p = 0; p < PIXELS; p++) out[n * PIXELS + p] = set.images[from + p]! / 255;
  }
  return out;
}

export function gatherLabels(set: LabelledImages, indices: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(indices.length);
  for (let n = 0; n < indices.length; n++) out[n] = set.labels[indices[n]!]!;
  return out;
}

/** Input tensor of shape [count, ...inputShape] (e.g. [n, 28, 28, 1] or [n, 784]). */
export function inputTensor(pixels: Float32Array, count: number, inputShape: readonly number[], upload: UploadTensor): tf.Tensor {
  return upload(pixels, [count, ...inputShape]);
}

/** Class indices for sparse crossentropy, one-hot rows for the other losses. */
export function targetTensor(labels: Uint8Array, oneHot: boolean, upload: UploadTensor): tf.Tensor {
  if (!oneHot) return upload(Float32Array.from(labels), [labels.length]);
  const rows = new Float32Array(labels.length * CLASS_COUNT);
  labels.forEach((label, n) => (rows[n * CLASS_COUNT + label] = 1));
  return upload(rows, [labels.length, CLASS_COUNT]);
}

export function range(count: number): Uint32Array {
  return Uint32Array.from({ length: count }, (_, i) => i);
}
