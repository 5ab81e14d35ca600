import type * as tf from '@tensorflow/tfjs';
import { ensureBackendForShapes } from '../backend/shapes.js';
import type { TrialConfig } from '../config/resolved.js';
import { buildModel } from './build.js';

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

/** What `validate`, `plan` and `sweep` let one trial use unless --max-memory says otherwise: a sixth of a 24 GiB machine. */
export const DEFAULT_MAX_MEMORY = 4 * 1024 ** 3;

const FLOAT_BYTES = 4;

/** Samples scored per forward pass: the trial's evaluation runs in chunks this size, so a trial's peak memory counts them. */
export const SCORING_CHUNK = 1000;

/** Values tf.train's optimizers keep per weight (moments, accumulators); momentum adds one to sgd and rmsprop. */
const OPTIMIZER_SLOTS: Record<string, number> = { sgd: 0, adam: 2, adamax: 2, rmsprop: 1, adagrad: 1, adadelta: 2 };

export interface MemoryEstimate {
  bytes: number;
  weights: number;
  /** Values per weight held while training: the weight, its gradient and the optimizer's slots. */
  perWeight: number;
  /** Values of one sample's input and every layer's output. */
  activationsPerSample: number;
  /** Samples whose activations are held at once: the training batch (twice, for the gradients) or a scoring chunk. */
  samplesHeld: number;
}

/** Values held per weight while training: the weight, its gradient and the optimizer's slots. */
export function valuesPerWeight({ name, momentum }: TrialConfig['train']['optimizer']): number {
  return 2 + (OPTIMIZER_SLOTS[name] ?? 2) + (momentum && (name === 'sgd' || name === 'rmsprop') ? 1 : 0);
}

/**
 * Tensor memory of one trial at its peak, in float32 values × 4 bytes:
 *   weights × (2 + optimizer slots)  +  activations per sample × max(2 × batchSize, scoring chunk)
 * A training step holds every layer's output for the batch and as many gradients; scoring holds the outputs of
 * SCORING_CHUNK samples. The process itself (Node, tfjs, the dataset) adds about 300 MiB, not counted.
 */
export function trainingMemory(config: TrialConfig, layers: readonly { outputShape: (number | null)[]; parameters: number }[]): MemoryEstimate {
  const weights = layers.reduce((sum, layer) => sum + layer.parameters, 0);
  const perWeight = valuesPerWeight(config.train.optimizer);
  const activationsPerSample = product([null, ...config.model.input]) + layers.reduce((sum, layer) => sum + product(layer.outputShape.slice(1)), 0);
  const samplesHeld = Math.max(2 * config.train.batchSize, SCORING_CHUNK);
  return { bytes: FLOAT_BYTES * (weights * perWeight + activationsPerSample * samplesHeld), weights, perWeight, activationsPerSample, samplesHeld };
}
