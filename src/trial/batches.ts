import type * as tf from '@tensorflow/tfjs';
import { residentImages, tensorUploader } from '../backend/select.js';
import type { Targets } from '../backend/training-overrides.js';
import { CLASS_COUNT, PIXELS, type LabelledImages } from '../data/classes.js';

/** The batches of one image set, as tensors on the active backend. */
export interface Batches {
  /** Inputs x [n, ...inputShape] of the samples at `indices`, scaled to [0, 1]. */
  inputs(indices: ArrayLike<number>): tf.Tensor;
  /** Inputs x and targets y of the samples at `indices`; `augment` edits the pixels in place before they become x. */
  labelled(indices: ArrayLike<number>, targets: Targets, augment?: (pixels: Float32Array) => void): { x: tf.Tensor; y: tf.Tensor };
}

/**
 * Where the backend can hold the set on its device (webgpu), a batch is gathered there, unless it is to be augmented
 * (augmentation runs on the CPU); elsewhere it is gathered here and uploaded. Both make the same numbers.
 */
export function batchesOf(set: LabelledImages, inputShape: readonly number[]): Batches {
  const upload = tensorUploader();
  const resident = residentImages(set, PIXELS, CLASS_COUNT);
  const uploadPixels = (indices: ArrayLike<number>, augment?: (pixels: Float32Array) => void) => {
    const pixels = gatherPixels(set, indices);
    augment?.(pixels);
    return upload(pixels, [indices.length, ...inputShape]);
  };
  return {
    inputs(indices) {
      return resident ? resident.inputs(indices, inputShape) : uploadPixels(indices);
    },
    labelled(indices, targets, augment) {
      if (resident && !augment) return resident.labelled(indices, inputShape, targets);
      const x = uploadPixels(indices, augment);
      return { x, y: upload(targetValues(set, indices, targets), targets === 'oneHot' ? [indices.length, CLASS_COUNT] : [indices.length]) };
    },
  };
}

/** Pixels of the chosen samples, scaled to [0, 1], one 784-float block per sample. */
function gatherPixels(set: LabelledImages, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * PIXELS);
  for (let n = 0; n < indices.length; n++) {
    const from = indices[n]! * PIXELS;
    for (let p = 0; p < PIXELS; p++) out[n * PIXELS + p] = set.images[from + p]! / 255;
  }
  return out;
}

function targetValues(set: LabelledImages, indices: ArrayLike<number>, targets: Targets): Float32Array {
  if (targets === 'sparse') return Float32Array.from({ length: indices.length }, (_, n) => set.labels[indices[n]!]!);
  const rows = new Float32Array(indices.length * CLASS_COUNT);
  for (let n = 0; n < indices.length; n++) rows[n * CLASS_COUNT + set.labels[indices[n]!]!] = 1;
  return rows;
}

export function range(count: number): Uint32Array {
  return Uint32Array.from({ length: count }, (_, i) => i);
}
