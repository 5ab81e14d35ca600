import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { activateBackend } from '../src/backend/select.js';
import { loadDataset } from '../src/data/dataset.js';
import { buildModel } from '../src/model/build.js';
import { runOutcome } from '../src/sweep/trial-outcome.js';
import { range } from '../src/trial/batches.js';
import { trainModel } from '../src/trial/train.js';
import { join } from 'node:path';
import { loadExperiment } from '../src/config/load-experiment.js';
import { expandTrials } from '../src/sweep/expand.js';
import { ROOT } from './helpers/cli.js';

describe('a NaN that the training loss hides still ends training as diverged', () => {
  it('weights gone NaN: wasm clips the NaN probabilities inside crossentropy, the validation loss does not', async () => {
    await activateBackend('wasm');
    // On wasm, clip(NaN) is the lower bound: the training loss stays finite while every prediction is NaN.
    expect(await tf.log(tf.clipByValue(tf.tensor([Number.NaN]), 1e-7, 1)).data()).toEqual(Float32Array.from([Math.log(1e-7)]));
    const quick = expandTrials(loadExperiment(join(ROOT, 'experiments', 'quick.yaml')))[0]!.config;
    const config = { ...quick, train: { ...quick.train, epochs: 2 } };
    const dataset = await loadDataset({});
    const model = buildModel(config);
    const weights = model.getWeights();
    model.setWeights(weights.map((w, i) => (i === weights.length - 1 ? tf.fill(w.shape, Number.NaN) : w)));
    const result = await trainModel(model, config, { train: dataset.train, trainIndices: range(64), validation: dataset.test, validationIndices: range(50) });
    expect(Number.isFinite(result.epochs[0]!.loss)).toBe(true);
    expect(result.outcome).toBe('diverged');
    expect(result.divergedAt).toMatchObject({ epoch: 1, metric: 'the validation loss' });
    const recorded = runOutcome({ kind: 'result', result: { ...result, paramCount: 0, seconds: 1 }, backend: { name: 'wasm', gpu: false, tfjsVersion: tf.version.tfjs } }, '/nowhere', undefined);
    expect(recorded.status).toBe('diverged');
    expect(recorded.error).toBe('the validation loss became NaN at epoch 1');
    model.dispose();
  });
});
