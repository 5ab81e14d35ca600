import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadExperiment } from '../src/config/load-experiment.js';
import { expandTrials } from '../src/sweep/expand.js';
import { buildModel, reseedDropout } from '../src/model/build.js';
import { SeededRandom } from '../src/random.js';
import { writeTemp } from './helpers/cli.js';

const SEED_CNN = `name: seed-cnn
model:
  layers:
    - { type: conv2d, filters: 32, kernelSize: 3, padding: same, activation: relu }
    - { type: maxPooling2d, poolSize: 2 }
    - { type: conv2d, filters: 64, kernelSize: 3, padding: same, activation: relu }
    - { type: maxPooling2d, poolSize: 2 }
    - { type: flatten }
    - { type: dropout, name: drop, rate: 0.5 }
    - { type: dense, units: 128, activation: relu }
    - { type: dense, units: 10, activation: softmax }
`;

const trialConfig = (yaml: string) => expandTrials(loadExperiment(writeTemp('m.yaml', yaml)))[0]!.config;

describe('an experiment compiles into the tfjs model it describes', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('builds the seed CNN layer for layer, with Keras parameter counts', () => {
    const model = buildModel(trialConfig(SEED_CNN));
    expect(model.layers.map((l) => l.getClassName())).toEqual(['Conv2D', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D', 'Flatten', 'Dropout', 'Dense', 'Dense']);
    expect(model.outputs[0]!.shape).toEqual([null, 10]);
    // 320 + 18,496 + 401,536 + 1,290, as Keras's model.summary() counts them.
    expect(model.countParams()).toBe(421642);
    model.dispose();
  });

  it('takes every layer type the format offers', () => {
    const model = buildModel(
      trialConfig(`name: all
model:
  input: [784]
  layers:
    - { type: reshape, targetShape: [28, 28, 1] }
    - { type: conv2d, filters: 4, kernelSize: [3, 3], strides: 1, padding: valid }
    - { type: batchNormalization }
    - { type: activation, activation: elu }
    - { type: depthwiseConv2d, kernelSize: 3 }
    - { type: separableConv2d, filters: 4, kernelSize: 3, padding: same }
    - { type: leakyReLU, alpha: 0.1 }
    - { type: averagePooling2d, poolSize: 2 }
    - { type: maxPooling2d, poolSize: 2 }
    - { type: globalAveragePooling2d }
    - { type: dropout, rate: 0.1 }
    - { type: dense, units: 10, activation: softmax }
`),
    );
    expect(model.outputs[0]!.shape).toEqual([null, 10]);
    model.dispose();
  });

  it('the same seed gives the same initial weights, another seed others', () => {
    const weights = (seed: number) => {
      const model = buildModel({ ...trialConfig(SEED_CNN), train: { ...trialConfig(SEED_CNN).train, seed } });
      const values = model.getWeights().map((w) => Array.from(w.dataSync().slice(0, 20)));
      model.dispose();
      return values;
    };
    expect(weights(1)).toEqual(weights(1));
    expect(weights(1)).not.toEqual(weights(2));
  });

  it('dropout draws a fresh, reproducible mask at every step', () => {
    const model = buildModel(trialConfig(SEED_CNN));
    const dropout = model.layers[5]!;
    const mask = () => tf.tidy(() => Array.from((dropout.apply(tf.ones([1, 64]), { training: true }) as tf.Tensor).dataSync()));
    const random = new SeededRandom(3);
    reseedDropout(model, random);
    const first = mask();
    reseedDropout(model, random);
    const second = mask();
    expect(first).not.toEqual(second);
    reseedDropout(model, new SeededRandom(3));
    expect(mask()).toEqual(first);
    model.dispose();
  });
});
