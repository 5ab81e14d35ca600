import * as tf from '@tensorflow/tfjs';
import { useCpuForShapes } from '../backend/select.js';
import { compileLayer } from '../model/build.js';
import { SeededRandom } from '../trial/random.js';
import type { Layer } from './experiment.types.js';
import type { TrialConfig } from './resolved.js';

/** A problem with the model a config builds, attached to the layer (or field) that causes it. */
export interface ModelProblem {
  segments: (string | number)[];
  message: string;
  hint?: string;
}

/** One row of a Keras-style model summary. */
export interface LayerSummary {
  index: number;
  name: string;
  type: string;
  outputShape: (number | null)[];
  parameters: number;
}

const CLASSES = 10;
const PIXELS = 28 * 28;
const PROBABILITY_LOSSES = new Set(['sparseCategoricalCrossentropy', 'categoricalCrossentropy']);

const dims = (shape: (number | null)[]) => shape.slice(1).join('×');

/**
 * Builds the model shape-only, layer by layer, so that a mistake is reported at the layer that makes it
 * (tfjs itself would only fail at the first training step, or not at all: a Dense after a convolution
 * silently keeps the image axes). Weights are created on the cpu backend and disposed at once.
 */
export function checkModel(config: TrialConfig): { problems: ModelProblem[]; summary: LayerSummary[] } {
  const problems: ModelProblem[] = [];
  const summary: LayerSummary[] = [];
  const input = config.model.input;
  const size = input.reduce((a, b) => a * b, 1);
  if (size !== PIXELS) {
    problems.push({
      segments: ['model', 'input'],
      message: `input shape [${input.join(', ')}] holds ${size} values, but a Fashion-MNIST image has 28×28 = ${PIXELS}`,
      hint: 'use [28, 28, 1] for convolutions or [784] for dense layers',
    });
    return { problems, summary };
  }
  useCpuForShapes();
  const seeds = new SeededRandom(config.train.seed);
  const model = tf.sequential();
  try {
    let shape: (number | null)[] = [null, ...input];
    const layers = config.model.layers;
    for (let index = 0; index < layers.length; index++) {
      const layer = layers[index]!;
      const at: (string | number)[] = ['model', 'layers', index];
      const before = shape;
      const problem = beforeAdding(layer, before);
      if (problem) {
        problems.push({ segments: at, ...problem });
        return { problems, summary };
      }
      try {
        model.add(compileLayer(config, index, seeds));
      } catch (error) {
        problems.push({ segments: at, ...explainBuildError(layer, before, (error as Error).message) });
        return { problems, summary };
      }
      const added = model.layers[model.layers.length - 1]!;
      shape = added.outputShape as (number | null)[];
      summary.push({ index, name: layer.name ?? `${layer.type}_${index}`, type: layer.type, outputShape: shape, parameters: added.countParams() });
      if (shape.slice(1).some((d) => d !== null && d <= 0)) {
        problems.push({
          segments: at,
          message: `${layer.type}'s window is larger than its ${dims(before)} input: the output would be ${dims(shape)}`,
          hint: layer.type.includes('ooling') ? 'remove this pooling layer, use a smaller poolSize, or padding: same' : 'use a smaller kernelSize or padding: same',
        });
        return { problems, summary };
      }
      if (layer.type === 'dense' && before.length > 2 && !problems.some((p) => p.message.includes('applies a dense layer'))) {
        problems.push({
          segments: at,
          message: `this dense layer gets a ${dims(before)} input; tfjs applies a dense layer to the last axis only, so the output stays ${dims(shape)} instead of a vector`,
          hint: 'add `- { type: flatten }` before it (or globalAveragePooling2d)',
        });
      }
    }
    problems.push(...outputProblems(config, shape, problems.length > 0));
    return { problems, summary };
  } finally {
    model.dispose();
  }
}

function beforeAdding(layer: Layer, shape: (number | null)[]): Omit<ModelProblem, 'segments'> | undefined {
  if (layer.type === 'reshape') {
    const from = shape.slice(1).reduce<number>((a, b) => a * (b ?? 1), 1);
    const to = layer.targetShape.reduce((a, b) => a * b, 1);
    if (from !== to) {
      return { message: `reshape to [${layer.targetShape.join(', ')}] needs ${to} values per sample, its input ${dims(shape)} has ${from}`, hint: `choose a targetShape whose product is ${from}` };
    }
  }
  return undefined;
}

function explainBuildError(layer: Layer, shape: (number | null)[], message: string): Omit<ModelProblem, 'segments'> {
  if (/Negative dimension size/.test(message)) {
    return { message: `${layer.type}'s window is larger than its ${dims(shape)} input`, hint: 'use a smaller kernelSize/poolSize, padding: same, or fewer pooling layers before it' };
  }
  const ndim = /expected ndim=(\d+), found ndim=(\d+)/.exec(message);
  if (ndim && Number(ndim[1]) > Number(ndim[2])) {
    return {
      message: `${layer.type} needs an image-shaped input (height × width × channels) but gets a flat ${dims(shape)} vector`,
      hint: 'move the flatten layer after the last convolution or pooling layer',
    };
  }
  return { message: `${layer.type} cannot take a ${dims(shape)} input: ${message}` };
}

function outputProblems(config: TrialConfig, shape: (number | null)[], alreadyExplained: boolean): ModelProblem[] {
  const last = config.model.layers.length - 1;
  const lastLayer = config.model.layers[last]!;
  const at = ['model', 'layers', last];
  const problems: ModelProblem[] = [];
  if (shape.length > 2) {
    if (!alreadyExplained) {
      problems.push({ segments: at, message: `the model's output is ${dims(shape)}, not one score per class`, hint: 'add `- { type: flatten }` before the dense layers' });
    }
    return problems;
  }
  const units = shape[1];
  if (units !== CLASSES) {
    problems.push({ segments: at, message: `the last layer outputs ${units} values, but Fashion-MNIST has ${CLASSES} classes`, hint: `make it { type: dense, units: ${CLASSES}, activation: softmax }` });
  }
  const activation = 'activation' in lastLayer ? lastLayer.activation ?? 'linear' : 'linear';
  if (PROBABILITY_LOSSES.has(config.train.loss) && activation !== 'softmax') {
    problems.push({
      segments: at,
      message: `loss ${config.train.loss} expects probabilities, but the last layer's activation is ${activation}`,
      hint: 'give the last layer activation: softmax',
    });
  }
  return problems;
}
