import * as tf from '@tensorflow/tfjs';
import type { TrialConfig } from '../config/resolved.js';
import type { LabelledImages } from '../data/dataset.js';
import { reseedDropout } from '../model/build.js';
import { createOptimizer } from '../model/optimizer.js';
import { augmentBatch } from './augment.js';
import { gatherLabels, gatherPixels, inputTensor, targetTensor } from './batches.js';
import { scoreSet } from './evaluate.js';
import { SeededRandom } from './random.js';

export interface EpochRecord {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
  /** The whole epoch: training and validation. */
  seconds: number;
  /** The validation part of `seconds`, kept apart because it scales with the validation set, not the training set. */
  validationSeconds: number;
}

export interface TrainingData {
  train: LabelledImages;
  trainIndices: Uint32Array;
  validation: LabelledImages;
  validationIndices: Uint32Array;
}

export interface TrainingEvents {
  onBatch?(epoch: number, batch: number, batches: number, loss: number): void;
  onEpoch?(record: EpochRecord): void;
  /** Polled between batches: true stops training at once (Ctrl-C, SIGTERM). */
  shouldStop?(): boolean;
}

export type TrainingOutcome = 'completed' | 'diverged' | 'interrupted';

export interface TrainingResult {
  outcome: TrainingOutcome;
  epochs: EpochRecord[];
  /** Epoch whose weights the model holds at the end (early stopping restores the best). */
  bestEpoch: number;
  stoppedEarly: boolean;
  divergedAt?: { epoch: number; batch: number; loss: number };
}

type Monitor = 'loss' | 'accuracy' | 'valLoss' | 'valAccuracy';

/**
 * Trains with the runner's own seeded epoch shuffle (fit's shuffle uses Math.random) and
 * augmentation on training batches only. Nothing here depends on the backend.
 */
export async function trainModel(model: tf.Sequential, config: TrialConfig, data: TrainingData, events: TrainingEvents = {}): Promise<TrainingResult> {
  const { train: settings } = config;
  const random = new SeededRandom(settings.seed ^ 0x5eed);
  const oneHot = settings.loss !== 'sparseCategoricalCrossentropy';
  model.compile({ optimizer: createOptimizer(settings.optimizer), loss: settings.loss, metrics: ['accuracy'] });

  const samples = data.trainIndices.length;
  const batches = Math.ceil(samples / settings.batchSize);
  const epochs: EpochRecord[] = [];
  const stopping = settings.earlyStopping;
  const monitor: Monitor = stopping?.monitor ?? 'valLoss';
  let best: { epoch: number; value: number; weights?: tf.Tensor[] } = { epoch: 0, value: Number.NaN };
  let stoppedEarly = false;

  try {
    for (let epoch = 1; epoch <= settings.epochs; epoch++) {
      const started = performance.now();
      const order = random.permutation(samples);
      let lossSum = 0;
      let accuracySum = 0;
      for (let batch = 0; batch < batches; batch++) {
        // trainOnBatch resolves through microtasks only; without a macrotask turn, signals and IPC would wait for the epoch to end.
        await new Promise((resolve) => setImmediate(resolve));
        if (events.shouldStop?.()) return finish('interrupted');
        const picked = order.subarray(batch * settings.batchSize, Math.min(samples, (batch + 1) * settings.batchSize));
        const indices = picked.map((i) => data.trainIndices[i]!);
        const pixels = gatherPixels(data.train, indices);
        augmentBatch(pixels, indices.length, config.augment, random);
        reseedDropout(model, random);
        const x = inputTensor(pixels, indices.length, config.model.input);
        const y = targetTensor(gatherLabels(data.train, indices), oneHot);
        const [loss, accuracy] = (await model.trainOnBatch(x, y)) as number[];
        x.dispose();
        y.dispose();
        if (!Number.isFinite(loss)) return finish('diverged', { epoch, batch: batch + 1, loss: loss! });
        lossSum += loss! * indices.length;
        accuracySum += accuracy! * indices.length;
        events.onBatch?.(epoch, batch + 1, batches, loss!);
      }
      const validationStarted = performance.now();
      const validation = scoreSet(model, config, data.validation, data.validationIndices);
      const finished = performance.now();
      const record: EpochRecord = {
        epoch,
        loss: lossSum / samples,
        accuracy: accuracySum / samples,
        valLoss: validation.loss,
        valAccuracy: validation.accuracy,
        seconds: (finished - started) / 1000,
        validationSeconds: (finished - validationStarted) / 1000,
      };
      epochs.push(record);
      events.onEpoch?.(record);
      if (stopping) {
        const value = record[monitor];
        const improved = Number.isNaN(best.value) || gain(monitor, best.value, value) > (stopping.minDelta ?? 0);
        if (improved) {
          best.weights?.forEach((w) => w.dispose());
          best = { epoch, value, weights: model.getWeights().map((w) => w.clone()) };
        } else if (epoch - best.epoch >= (stopping.patience ?? 3)) {
          // Keras's count: `patience` epochs in a row without improvement end training.
          stoppedEarly = true;
          break;
        }
      }
    }
    if (best.weights) model.setWeights(best.weights);
    return finish('completed');
  } finally {
    best.weights?.forEach((w) => w.dispose());
  }

  function finish(outcome: TrainingOutcome, divergedAt?: TrainingResult['divergedAt']): TrainingResult {
    const bestEpoch = best.weights ? best.epoch : epochs.length;
    return { outcome, epochs, bestEpoch, stoppedEarly, divergedAt };
  }
}

/** How much `next` improves on `previous`: losses improve downwards, accuracies upwards. */
function gain(monitor: Monitor, previous: number, next: number): number {
  return monitor.toLowerCase().includes('loss') ? previous - next : next - previous;
}
