import type { TrialConfig } from '../config/resolved.js';
import { heldOutCount } from '../config/trial-checks.js';
import { take, type Dataset } from '../data/dataset.js';
import { buildModel } from '../model/build.js';
import { range } from './batches.js';
import { classMetrics } from './class-metrics.js';
import { scoreSet, type Score } from './evaluate.js';
import { SeededRandom } from '../random.js';
import type { ClassMetrics } from './records.js';
import { saveModel } from './save-model.js';
import { trainModel, type TrainingEvents, type TrainingOptions, type TrainingResult } from './train.js';

export interface TrialResult extends TrainingResult {
  paramCount: number;
  /** Present when training completed: the final score on the test set. */
  test?: Score & { classes: ClassMetrics[]; seconds: number };
  seconds: number;
}

export interface TrialOptions extends TrainingOptions {
  /** Where completed training saves the model (the best epoch's weights where early stopping keeps them). */
  modelDir?: string;
}

/** One trial, in this process: build → train (or go on from a checkpoint) → evaluate on the test set → save the weights. */
export async function runTrial(config: TrialConfig, dataset: Dataset, events: TrainingEvents = {}, options: TrialOptions = {}): Promise<TrialResult> {
  const { modelDir, ...training } = options;
  const started = performance.now();
  const trainSet = take(dataset.train, config.data.trainLimit);
  const testSet = take(dataset.test, config.data.testLimit);
  const split = splitValidation(trainSet.count, config);
  const model = buildModel(config);
  try {
    const trained = await trainModel(
      model,
      config,
      {
        train: trainSet,
        trainIndices: split.train,
        validation: split.validation ? trainSet : testSet,
        validationIndices: split.validation ?? range(testSet.count),
      },
      events,
      training,
    );
    const result: TrialResult = { ...trained, paramCount: model.countParams(), seconds: 0 };
    if (trained.outcome === 'completed') {
      const testStarted = performance.now();
      const test = await scoreSet(model, config, testSet);
      result.test = { ...test, classes: classMetrics(test.confusion), seconds: (performance.now() - testStarted) / 1000 };
      if (modelDir) await saveModel(model, modelDir);
    }
    result.seconds = (performance.now() - started) / 1000;
    return result;
  } finally {
    model.optimizer?.dispose();
    model.dispose();
  }
}

/** With `validation: <fraction>`, a seeded random part of the training set is held out for per-epoch scores. */
function splitValidation(count: number, config: TrialConfig): { train: Uint32Array; validation?: Uint32Array } {
  const fraction = config.data.validation;
  if (fraction === 'test') return { train: range(count) };
  const order = new SeededRandom(config.train.seed ^ 0x7a11d).permutation(count);
  const held = heldOutCount(count, fraction);
  return { train: order.slice(held), validation: order.slice(0, held) };
}
