import * as tf from '@tensorflow/tfjs';
import type { TrialConfig } from '../config/resolved.js';
import { CLASS_COUNT, type LabelledImages } from '../data/classes.js';
import { SCORING_CHUNK } from '../model/cost.js';
import { batchesOf } from './batches.js';
import { MAX_MISTAKES, type Mistake } from './records.js';

/** How a model did on one set: loss, accuracy, the confusion matrix (rows: true class, columns: predicted). */
export interface Score {
  loss: number;
  accuracy: number;
  confusion: number[][];
  /** Misclassified samples, the first few in set order, for the error gallery. */
  mistakes: Mistake[];
}

/** Keras clips probabilities to this before taking logs. */
const EPSILON = 1e-7;

/** Scores `indices` of `set` (all of it by default) in chunks; loss is computed in JS from the outputs so it matches the configured loss on every backend. */
export async function scoreSet(model: tf.LayersModel, config: TrialConfig, set: LabelledImages, indices?: ArrayLike<number>): Promise<Score> {
  const order = indices ?? Uint32Array.from({ length: set.count }, (_, i) => i);
  const confusion = Array.from({ length: CLASS_COUNT }, () => new Array<number>(CLASS_COUNT).fill(0));
  const mistakes: Mistake[] = [];
  let lossSum = 0;
  let correct = 0;
  const batches = batchesOf(set, config.model.input);
  for (let start = 0; start < order.length; start += SCORING_CHUNK) {
    const chunk = Array.prototype.slice.call(order, start, Math.min(start + SCORING_CHUNK, order.length)) as number[];
    const predictions = tf.tidy(() => model.predict(batches.inputs(chunk)) as tf.Tensor);
    // Read outside tidy: tidy walks whatever it returns looking for tensors, element by element. Asynchronously,
    // because a synchronous read throws on WebGPU in Node.
    const outputs = (await predictions.data()) as Float32Array;
    predictions.dispose();
    chunk.forEach((sample, n) => {
      const row = outputs.subarray(n * CLASS_COUNT, (n + 1) * CLASS_COUNT);
      const label = set.labels[sample]!;
      let predicted = 0;
      for (let k = 1; k < CLASS_COUNT; k++) if (row[k]! > row[predicted]!) predicted = k;
      confusion[label]![predicted]!++;
      if (predicted === label) correct++;
      else if (mistakes.length < MAX_MISTAKES) mistakes.push({ index: sample, label, predicted, confidence: row[predicted]! });
      lossSum += sampleLoss(config.train.loss, row, label);
    });
  }
  return { loss: lossSum / order.length, accuracy: correct / order.length, confusion, mistakes };
}

function sampleLoss(loss: TrialConfig['train']['loss'], row: Float32Array, label: number): number {
  if (loss === 'meanSquaredError') {
    let sum = 0;
    for (let k = 0; k < CLASS_COUNT; k++) sum += (row[k]! - (k === label ? 1 : 0)) ** 2;
    return sum / CLASS_COUNT;
  }
  return -Math.log(Math.min(1 - EPSILON, Math.max(EPSILON, row[label]!)));
}
