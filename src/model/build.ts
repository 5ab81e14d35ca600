import * as tf from '@tensorflow/tfjs';
import type { Layer } from '../config/experiment.types.js';
import type { TrialConfig } from '../config/resolved.js';
import { SeededRandom } from '../random.js';

type InitializerName = NonNullable<Extract<Layer, { type: 'conv2d' }>['kernelInitializer']>;

/**
 * Compiles the layer stack into a tf.Sequential. Entries map one to one onto tf.layers.<type>(args);
 * the only additions are seeds, so that the trial's seed fixes every initial weight.
 */
export function buildModel(config: TrialConfig): tf.Sequential {
  const seeds = new SeededRandom(config.train.seed);
  const model = tf.sequential({ name: sanitize(config.name) });
  config.model.layers.forEach((_, index) => model.add(compileLayer(config, index, seeds)));
  return model;
}

/** The tfjs layer for `config.model.layers[index]`, the first one given the input shape. */
export function compileLayer(config: TrialConfig, index: number, seeds: SeededRandom): tf.layers.Layer {
  const layer = config.model.layers[index]!;
  const args = { ...(index === 0 ? { inputShape: config.model.input } : {}), ...layerArgs(layer, seeds) };
  return createLayer(layer, args);
}

function sanitize(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}

function initializer(name: InitializerName | undefined, seeds: SeededRandom, fallback: InitializerName = 'glorotUniform'): ReturnType<typeof tf.initializers.zeros> {
  const chosen = name ?? fallback;
  const seed = seeds.int();
  switch (chosen) {
    case 'zeros':
      return tf.initializers.zeros();
    case 'ones':
      return tf.initializers.ones();
    default:
      return tf.initializers[chosen]({ seed });
  }
}

/** The entry's own fields minus `type`, plus seeded initializers where the layer has weights. */
function layerArgs(layer: Layer, seeds: SeededRandom): Record<string, unknown> {
  const { type: _type, ...args } = layer as Layer & Record<string, unknown>;
  switch (layer.type) {
    case 'conv2d':
    case 'dense':
      return { ...args, kernelInitializer: initializer(layer.kernelInitializer, seeds) };
    case 'depthwiseConv2d':
      return { ...args, depthwiseInitializer: initializer(undefined, seeds) };
    case 'separableConv2d':
      return { ...args, depthwiseInitializer: initializer(undefined, seeds), pointwiseInitializer: initializer(undefined, seeds) };
    case 'dropout':
      // Replaced before every batch by the trainer (see reseedDropout): tfjs would reuse one mask forever.
      return { ...args, seed: seeds.int() };
    default:
      return args;
  }
}

function createLayer(layer: Layer, args: Record<string, unknown>): tf.layers.Layer {
  const factory = (tf.layers as unknown as Record<string, (a: Record<string, unknown>) => tf.layers.Layer>)[layer.type];
  if (!factory) throw new Error(`tf.layers.${layer.type} does not exist in this tfjs version`);
  return factory(args);
}

/**
 * tfjs's dropout with a fixed seed draws the same mask at every step, and without one it uses
 * Math.random. Giving each dropout layer a fresh seed from the trial's generator before every
 * batch keeps masks both varied and reproducible.
 */
export function reseedDropout(model: tf.Sequential, random: SeededRandom): void {
  for (const layer of model.layers) {
    if (layer.getClassName() === 'Dropout') (layer as unknown as { seed: number }).seed = random.int();
  }
}
