import * as tf from '@tensorflow/tfjs';
import prettyBytes from 'pretty-bytes';
import { ensureBackendForShapes } from '../backend/shapes.js';
import type { Layer } from '../config/experiment.types.js';
import type { TrialConfig } from '../config/resolved.js';
import { CLASS_COUNT, IMAGE_SIZE, PIXELS } from '../data/classes.js';
import { SeededRandom } from '../random.js';
import { compileLayer } from './build.js';
import { DEFAULT_MAX_MEMORY, valuesPerWeight } from './cost.js';

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

const PROBABILITY_LOSSES = new Set(['sparseCategoricalCrossentropy', 'categoricalCrossentropy']);

const dims = (shape: (number | null)[]) => shape.slice(1).join('×');

/**
 * Builds the model shape-only, layer by layer, so that a mistake is reported at the layer that makes it
 * (tfjs itself would only fail at the first training step, or not at all: a Dense after a convolution
 * silently keeps the image axes). Weights are created on the cpu backend and disposed at once.
 * Checks that need no shapes (argument combinations, the output layer's units and activation) run even
 * when the build stops early, so that one run reports every independent problem.
 */
export function checkModel(config: TrialConfig, limits: { maxMemory?: number } = {}): { problems: ModelProblem[]; summary: LayerSummary[] } {
  const built = buildShapes(config, limits.maxMemory ?? DEFAULT_MAX_MEMORY);
  const problems = [...argumentProblems(config.model.layers), ...built.problems];
  problems.push(...outputProblems(config, built.output, built.problems.length > 0));
  return { problems, summary: built.summary };
}

/** Output shape is undefined when a problem stopped the build: nothing after it has a shape. */
function buildShapes(config: TrialConfig, maxMemory: number): { problems: ModelProblem[]; summary: LayerSummary[]; output?: (number | null)[] } {
  const problems: ModelProblem[] = [];
  const summary: LayerSummary[] = [];
  const input = config.model.input;
  const size = input.reduce((a, b) => a * b, 1);
  if (size !== PIXELS) {
    problems.push({
      segments: ['model', 'input'],
      message: `input shape [${input.join(', ')}] holds ${size} values, but a Fashion-MNIST image has ${IMAGE_SIZE}×${IMAGE_SIZE} = ${PIXELS}`,
      hint: `use [${IMAGE_SIZE}, ${IMAGE_SIZE}, 1] for convolutions or [${PIXELS}] for dense layers`,
    });
    return { problems, summary };
  }
  ensureBackendForShapes();
  const seeds = new SeededRandom(config.train.seed);
  const model = tf.sequential();
  try {
    let shape: (number | null)[] = [null, ...input];
    const layers = config.model.layers;
    for (let index = 0; index < layers.length; index++) {
      const layer = layers[index]!;
      const at: (string | number)[] = ['model', 'layers', index];
      const before = shape;
      const problem = beforeAdding(layer, before) ?? tooBigToBuild(layer, before, valuesPerWeight(config.train.optimizer), maxMemory);
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
    return { problems, summary, output: shape };
  } finally {
    model.dispose();
  }
}

/**
 * A layer whose weights alone, with their gradients and optimizer slots, pass the memory limit: the shape-only build would allocate them
 * (gigabytes, for seconds), so it stops here. The weights are counted from the arguments, kernels only: the
 * layers whose weights grow with their arguments. Below the limit, checked-trials estimates the whole trial.
 */
function tooBigToBuild(layer: Layer, input: (number | null)[], perWeight: number, maxMemory: number): { message: string; hint: string } | undefined {
  const channels = input[input.length - 1] ?? 1;
  const args = layer as { units?: number; filters?: number; depthMultiplier?: number; kernelSize?: number | number[] };
  const window = typeof args.kernelSize === 'number' ? args.kernelSize ** 2 : (args.kernelSize ?? [0]).reduce((a, b) => a * b, 1);
  const weights = layer.type === 'dense' ? channels * (args.units ?? 0) : window * channels * (args.filters ?? args.depthMultiplier ?? 1);
  const bytes = weights * perWeight * 4;
  if (bytes <= maxMemory) return undefined;
  return {
    message: `this ${layer.type} layer has ${weights.toLocaleString('en-US')} weights: with their gradients and the optimizer's slots (${perWeight} values of 4 bytes each) training needs at least ${prettyBytes(bytes, { binary: true })}, over the memory limit of ${prettyBytes(maxMemory, { binary: true })} per trial`,
    hint: `make the layer smaller${layer.type === 'dense' ? ' (fewer units, or pool before flattening)' : ''}, or raise the limit with --max-memory if the machine has the memory`,
  };
}

/** Argument combinations tfjs accepts when building a layer but rejects at the first training step. */
function argumentProblems(layers: Layer[]): ModelProblem[] {
  const problems: ModelProblem[] = [];
  layers.forEach((layer, index) => {
    if (layer.type !== 'conv2d') return;
    const above1 = (v: number | number[] | undefined) => [v ?? 1].flat().some((d) => d > 1);
    if (above1(layer.strides) && above1(layer.dilationRate)) {
      problems.push({
        segments: ['model', 'layers', index, 'dilationRate'],
        message: `conv2d cannot combine strides ${JSON.stringify(layer.strides)} with dilationRate ${JSON.stringify(layer.dilationRate)}: tfjs needs one of them to be 1, and would fail at the first training step`,
        hint: 'set dilationRate: 1 to keep the stride, or strides: 1 to keep the dilation (and downsample with a pooling layer)',
      });
    }
  });
  return problems;
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

/** Layers that leave the width of their input unchanged, so the last dense layer before them sets the output's size. */
const KEEP_WIDTH = new Set<Layer['type']>(['dropout', 'activation', 'batchNormalization', 'leakyReLU']);
/** Layers that pass values through unchanged (dropout does at inference), so they cannot undo a softmax. */
const KEEP_VALUES = new Set<Layer['type']>(['dropout', 'flatten', 'reshape']);

/**
 * The output's size and activation. With a built `output` the size comes from it; without one (the build stopped
 * early, or a dense layer kept image axes, already reported) it comes from the config alone where it can.
 */
function outputProblems(config: TrialConfig, output: (number | null)[] | undefined, alreadyExplained: boolean): ModelProblem[] {
  const layers = config.model.layers;
  const last = layers.length - 1;
  const problems: ModelProblem[] = [];
  if (output && output.length > 2 && !alreadyExplained) {
    problems.push({ segments: ['model', 'layers', last], message: `the model's output is ${dims(output)}, not one score per class`, hint: 'add `- { type: flatten }` before the dense layers' });
    return problems;
  }
  const sizing = lastIndex(layers, (l) => !KEEP_WIDTH.has(l.type));
  const sizingLayer = sizing === undefined ? undefined : layers[sizing];
  const units = output?.length === 2 ? output[1] : sizingLayer?.type === 'dense' ? sizingLayer.units : undefined;
  if (units !== undefined && units !== CLASS_COUNT) {
    problems.push({
      segments: ['model', 'layers', sizingLayer?.type === 'dense' ? sizing! : last],
      message: `the last layer outputs ${units} values, but Fashion-MNIST has ${CLASS_COUNT} classes`,
      hint: `make it { type: dense, units: ${CLASS_COUNT}, activation: softmax }`,
    });
  }
  const producer = lastIndex(layers, (l) => !KEEP_VALUES.has(l.type));
  if (producer === undefined || !PROBABILITY_LOSSES.has(config.train.loss)) return problems;
  const layer = layers[producer]!;
  const activation = 'activation' in layer ? (layer.activation ?? 'linear') : undefined;
  if (activation === 'softmax') return problems;
  const whose = producer === last ? "the last layer's activation" : `the activation of model.layers[${producer}], the last layer that has one,`;
  problems.push({
    segments: ['model', 'layers', producer],
    message: `loss ${config.train.loss} expects probabilities, but ${activation ? `${whose} is ${activation}` : `the model ends with a ${layer.type} layer, which does not output probabilities`}`,
    hint: activation ? `give model.layers[${producer}] activation: softmax` : `end the model with { type: dense, units: ${CLASS_COUNT}, activation: softmax }`,
  });
  return problems;
}

function lastIndex(layers: Layer[], matches: (layer: Layer) => boolean): number | undefined {
  for (let i = layers.length - 1; i >= 0; i--) if (matches(layers[i]!)) return i;
  return undefined;
}
