import * as tf from '@tensorflow/tfjs';
import type { TrialConfig } from '../config/resolved.js';
import type { LabelledImages } from '../data/classes.js';
import { reseedDropout } from '../model/build.js';
import { createOptimizer } from '../model/optimizer.js';
import { augmentBatch } from './augment.js';
import { batchesOf } from './batches.js';
import { restoreCheckpoint, saveCheckpoint, type BestEpoch } from './checkpoint.js';
import { scoreSet } from './evaluate.js';
import { higherIsBetter, type EpochMetric } from './epoch-metrics.js';
import type { EpochRecord } from './records.js';
import { SeededRandom } from '../random.js';
import { TrainStep } from './train-step.js';

/** Batches between reads of the loss totals: each read waits for the device, so they are spaced out. */
const READ_EVERY = 16;

export interface TrainingData {
  train: LabelledImages;
  trainIndices: Uint32Array;
  validation: LabelledImages;
  validationIndices: Uint32Array;
}

export interface TrainingEvents {
  /**
   * Once the model is ready to train, before the first batch: the epochs a checkpoint restored (none for a fresh
   * start, or when the checkpoint was not this trial's or was damaged), so that the record can be made to match.
   */
  onStart?(restored: readonly EpochRecord[]): void;
  /** Every few batches, once the device has finished up to `batch`: the epoch's mean training loss so far. */
  onBatch?(epoch: number, batch: number, batches: number, loss: number): void;
  onEpoch?(record: EpochRecord): void;
  /** Polled between batches: true stops training at once (Ctrl-C, SIGTERM). */
  shouldStop?(): boolean;
}

export interface TrainingOptions {
  /**
   * Where the trial keeps its checkpoint (checkpoint.ts): saved after every epoch and, where it holds one of this
   * trial, gone on from instead of epoch 1.
   */
  checkpointDir?: string;
  /**
   * The last epoch to train in this call; `train.epochs` stays the schedule's end. Stopping here ends the call as
   * completed training would (best weights restored, so the test score is the best epoch's), while the checkpoint
   * keeps the weights of the last epoch for an exact continuation. A checkpoint already past it trains nothing more.
   */
  untilEpoch?: number;
}

export type TrainingOutcome = 'completed' | 'diverged' | 'interrupted';

export interface TrainingResult {
  outcome: TrainingOutcome;
  /** Every epoch of the trial, those restored from a checkpoint included. */
  epochs: EpochRecord[];
  /** The epoch a checkpoint restored; absent for a fresh start. */
  resumedFrom?: number;
  /** Nothing is left to train: all `train.epochs` done, early stopping ended it, or it diverged. False when it stopped at `untilEpoch` or was interrupted. */
  reachedEnd: boolean;
  /** Epoch whose weights the model holds at the end (early stopping restores the best). */
  bestEpoch: number;
  stoppedEarly: boolean;
  /**
   * The first non-finite loss total was seen after `batch`; it went bad somewhere from `firstBatch` on. `metric`
   * names what became non-finite when it was not the training loss (a validation score, the final weights).
   */
  divergedAt?: { epoch: number; firstBatch: number; batch: number; loss: number; metric?: string };
}


/**
 * Trains with the runner's own seeded epoch shuffle (fit's shuffle uses Math.random) and
 * augmentation on training batches only. Nothing here depends on the backend; nothing is read back per batch.
 */
export async function trainModel(
  model: tf.Sequential,
  config: TrialConfig,
  data: TrainingData,
  events: TrainingEvents = {},
  options: TrainingOptions = {},
): Promise<TrainingResult> {
  const { train: settings } = config;
  const targets = settings.loss === 'sparseCategoricalCrossentropy' ? 'sparse' : 'oneHot';
  model.compile({ optimizer: createOptimizer(settings.optimizer), loss: settings.loss, metrics: ['accuracy'] });
  // After compiling: the checkpoint fills in the optimizer that compile created.
  const resumed = options.checkpointDir ? await restoreCheckpoint(options.checkpointDir, config, model) : undefined;
  const random = new SeededRandom(resumed?.random ?? (settings.seed ^ 0x5eed));

  const samples = data.trainIndices.length;
  const batches = Math.ceil(samples / settings.batchSize);
  const epochs: EpochRecord[] = resumed?.epochs ?? [];
  const stopping = settings.earlyStopping;
  const monitor: EpochMetric = stopping?.monitor ?? 'valLoss';
  let best: BestEpoch = resumed?.best ?? { epoch: 0, value: Number.NaN };
  let stoppedEarly = resumed?.stoppedEarly ?? false;
  const lastEpoch = Math.min(settings.epochs, options.untilEpoch ?? settings.epochs);

  const trainBatches = batchesOf(data.train, config.model.input);
  const step = new TrainStep(model, settings.loss);
  events.onStart?.(epochs);
  try {
    for (let epoch = (resumed?.epoch ?? 0) + 1; epoch <= lastEpoch && !stoppedEarly; epoch++) {
      const started = performance.now();
      const order = random.permutation(samples);
      step.reset();
      // The totals of the batches up to `through`, being read while later batches run.
      let pending: { through: number; totals: Promise<{ loss: number; correct: number }> } | undefined;
      let checkedThrough = 0;
      let totals = { loss: 0, correct: 0 };
      /** Waits for the totals being read; a non-finite loss among the batches they cover ends training. */
      const check = async (): Promise<TrainingResult | undefined> => {
        if (!pending) return undefined;
        const { through } = pending;
        totals = await pending.totals;
        pending = undefined;
        if (!Number.isFinite(totals.loss)) return finish('diverged', { epoch, batch: through, firstBatch: checkedThrough + 1, loss: totals.loss });
        checkedThrough = through;
        events.onBatch?.(epoch, through, batches, totals.loss / Math.min(samples, through * settings.batchSize));
        return undefined;
      };
      for (let batch = 0; batch < batches; batch++) {
        // Lets signals and IPC in between batches, which otherwise resolve through microtasks only.
        await new Promise((resolve) => setImmediate(resolve));
        if (events.shouldStop?.()) {
          // A read still in flight must not reject unheard once training has returned.
          pending?.totals.catch(() => undefined);
          return finish('interrupted');
        }
        const picked = order.subarray(batch * settings.batchSize, Math.min(samples, (batch + 1) * settings.batchSize));
        const indices = picked.map((i) => data.trainIndices[i]!);
        const augment = config.augment.length > 0 ? (pixels: Float32Array) => augmentBatch(pixels, indices.length, config.augment, random) : undefined;
        const { x, y } = trainBatches.labelled(indices, targets, augment);
        reseedDropout(model, random);
        step.run(x, y);
        x.dispose();
        y.dispose();
        if ((batch + 1) % READ_EVERY === 0 || batch + 1 === batches) {
          const diverged = await check();
          if (diverged) return diverged;
          pending = { through: batch + 1, totals: step.read() };
        }
      }
      const diverged = await check();
      if (diverged) return diverged;
      const validationStarted = performance.now();
      const validation = await scoreSet(model, config, data.validation, data.validationIndices);
      const finished = performance.now();
      const record: EpochRecord = {
        epoch,
        loss: totals.loss / samples,
        accuracy: totals.correct / samples,
        valLoss: validation.loss,
        valAccuracy: validation.accuracy,
        seconds: (finished - started) / 1000,
        validationSeconds: (finished - validationStarted) / 1000,
      };
      epochs.push(record);
      // Crossentropy clips probabilities, so on some backends the training loss stays finite while the weights,
      // and with them the validation scores, have become NaN.
      const broken = NON_FINITE_WATCH.find((metric) => !Number.isFinite(record[metric]));
      if (broken) {
        events.onEpoch?.(record);
        return finish('diverged', { epoch, firstBatch: 1, batch: batches, loss: record[broken], metric: METRIC_NAMES[broken] });
      }
      if (stopping) {
        const value = record[monitor];
        const improved = Number.isNaN(best.value) || gain(monitor, best.value, value) > (stopping.minDelta ?? 0);
        if (improved) {
          best.weights?.forEach((w) => w.dispose());
          best = { epoch, value, weights: model.getWeights().map((w) => w.clone()) };
        } else if (epoch - best.epoch >= (stopping.patience ?? 3)) {
          // Keras's count: `patience` epochs in a row without improvement end training.
          stoppedEarly = true;
        }
      }
      // Before the parent hears of the epoch, so that every epoch it has recorded is in the checkpoint.
      if (options.checkpointDir) await saveCheckpoint(options.checkpointDir, config, model, { epoch, random: random.state, stoppedEarly, best, epochs });
      events.onEpoch?.(record);
    }
    if (best.weights) model.setWeights(best.weights);
    const weightSum = await finiteCheck(model);
    if (!Number.isFinite(weightSum)) return finish('diverged', { epoch: epochs.length, firstBatch: 1, batch: batches, loss: weightSum, metric: 'the weights' });
    return finish('completed');
  } finally {
    step.dispose();
    best.weights?.forEach((w) => w.dispose());
  }

  function finish(outcome: TrainingOutcome, divergedAt?: TrainingResult['divergedAt']): TrainingResult {
    const bestEpoch = best.weights ? best.epoch : epochs.length;
    const reachedEnd = outcome === 'diverged' || (outcome === 'completed' && (stoppedEarly || epochs.length >= settings.epochs));
    return { outcome, epochs, resumedFrom: resumed?.epoch, reachedEnd, bestEpoch, stoppedEarly, divergedAt };
  }
}

const NON_FINITE_WATCH = ['loss', 'accuracy', 'valLoss', 'valAccuracy'] as const;
const METRIC_NAMES: Record<(typeof NON_FINITE_WATCH)[number], string> = { loss: 'the training loss', accuracy: 'the training accuracy', valLoss: 'the validation loss', valAccuracy: 'the validation accuracy' };

/**
 * The sum of every weight's magnitude: finite exactly when all weights are. One read, at the end of training. Added
 * pairwise, not with addN: webgpu's AddN binds every input at once, and a model with 8 or more weights exceeds the
 * 8 storage buffers a WebGPU device allows by default (the pipeline is invalid and the whole submit is dropped).
 */
async function finiteCheck(model: tf.LayersModel): Promise<number> {
  const total = tf.tidy(() => model.getWeights().map((w) => tf.sum(tf.abs(w))).reduce((sum, next) => sum.add(next)));
  const [value] = await total.data();
  total.dispose();
  return value!;
}

/** How much `next` improves on `previous`. */
function gain(monitor: EpochMetric, previous: number, next: number): number {
  return higherIsBetter(monitor) ? next - previous : previous - next;
}
