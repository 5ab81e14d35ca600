import type * as tf from '@tensorflow/tfjs';
import { ensureBackendForShapes } from '../backend/shapes.js';
import type { TrialConfig } from '../config/resolved.js';
import { buildModel } from '../model/build.js';

export interface ModelCost {
  /** Trainable and non-trainable weights, as Keras's summary counts them. */
  params: number;
  /** Multiply-adds of one forward pass of one sample: what training and scoring time grow with. */
  macsPerSample: number;
}

/** Layers that only reinterpret their input's shape cost nothing per sample. */
const VIEWS = new Set(['Flatten', 'Reshape']);

/** Size and forward cost of the model a config builds, from a shape-only build on the cpu backend. */
export function modelCost(config: TrialConfig): ModelCost {
  ensureBackendForShapes();
  const model = buildModel(config);
  try {
    return { params: model.countParams(), macsPerSample: model.layers.reduce((sum, layer) => sum + layerMacs(layer), 0) };
  } finally {
    model.dispose();
  }
}

/**
 * Every weighted layer here (dense, the convolutions, the depthwise and pointwise halves of a separable one)
 * applies each kernel weight once per output position, so its multiply-adds are positions × kernel weights.
 * Other layers (pooling, normalization, activations, dropout) touch each input value about once.
 */
function layerMacs(layer: tf.layers.Layer): number {
  const kernelWeights = layer.weights.filter((w) => w.name.endsWith('kernel')).reduce((sum, w) => sum + product(w.shape), 0);
  const output = layer.outputShape as (number | null)[];
  if (kernelWeights > 0) return product(output.slice(1, -1)) * kernelWeights;
  if (VIEWS.has(layer.getClassName())) return 0;
  const input = (layer.input as tf.SymbolicTensor).shape;
  return product(input.slice(1));
}

function product(dims: readonly (number | null)[]): number {
  return dims.reduce<number>((a, b) => a * (b ?? 1), 1);
}
