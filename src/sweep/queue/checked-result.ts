import { BACKEND_NAMES } from '../../backend/names.js';
import type { TrialConfig } from '../../config/resolved.js';
import { CLASS_COUNT } from '../../data/classes.js';
import { MAX_MISTAKES, type EpochRecord } from '../../trial/records.js';
import { printable } from './printable.js';
import { MODEL_FILES, type QueuedProgress, type QueuedResult } from './queued-trial.js';

/**
 * What comes back through Redis is checked before the coordinator records it or writes it to disk: anyone who can
 * write to the queue could put anything there, and a malformed value must fail one trial, not the sweep.
 */

/** Float32 weights plus room for a variant that stores more per weight; the slack covers tiny models. */
const WEIGHT_BYTES_PER_PARAM = 4 * 2;
const WEIGHTS_SLACK_BYTES = 64 * 1024;
/** A model.json describes layers, not data: far below this. */
const MAX_MODEL_JSON_BYTES = 1024 * 1024;
const OUTCOMES = new Set(['completed', 'diverged', 'interrupted']);
const EPOCH_FIELDS = ['epoch', 'loss', 'accuracy', 'valLoss', 'valAccuracy', 'seconds', 'validationSeconds'] as const;

type Check = (value: unknown, where: string) => void;
class Malformed extends Error {}

const fail = (where: string, what: string): never => {
  throw new Malformed(`${where} ${what}`);
};
const isObject = (value: unknown): value is Record<string, unknown> => !!value && typeof value === 'object' && !Array.isArray(value);
const object: Check = (value, where) => void (isObject(value) || fail(where, 'is not an object'));
// A diverged trial's loss may be NaN or ±Infinity (encodeResult keeps them): a number, not necessarily finite.
const number: Check = (value, where) => void (typeof value === 'number' || fail(where, 'is not a number'));
const finite: Check = (value, where) => void ((typeof value === 'number' && Number.isFinite(value)) || fail(where, 'is not a finite number'));
const count = (value: unknown, where: string, max = Number.MAX_SAFE_INTEGER) =>
  void ((Number.isInteger(value) && (value as number) >= 0 && (value as number) <= max) || fail(where, `is not a whole number from 0 to ${max}`));
const array = (value: unknown, where: string, max: number): unknown[] => {
  if (!Array.isArray(value)) fail(where, 'is not an array');
  if ((value as unknown[]).length > max) fail(where, `has more than ${max} entries`);
  return value as unknown[];
};

function checkEpoch(value: unknown, where: string): void {
  object(value, where);
  const record = value as Record<string, unknown>;
  count(record.epoch, `${where}.epoch`);
  for (const field of EPOCH_FIELDS.slice(1)) number(record[field], `${where}.${field}`);
  finite(record.seconds, `${where}.seconds`);
  finite(record.validationSeconds, `${where}.validationSeconds`);
}

function checkEpochs(value: unknown, where: string, epochs: number): void {
  array(value, where, epochs).forEach((record, index) => checkEpoch(record, `${where}[${index}]`));
}

function checkBackend(value: unknown, where: string): void {
  object(value, where);
  const backend = value as Record<string, unknown>;
  if (!(BACKEND_NAMES as readonly unknown[]).includes(backend.name)) fail(`${where}.name`, 'is not a backend');
  if (typeof backend.gpu !== 'boolean' || typeof backend.tfjsVersion !== 'string') fail(where, 'lacks gpu or tfjsVersion');
}

function checkTest(value: unknown, where: string, testCount: number): void {
  object(value, where);
  const test = value as Record<string, unknown>;
  number(test.loss, `${where}.loss`);
  finite(test.accuracy, `${where}.accuracy`);
  finite(test.seconds, `${where}.seconds`);
  array(test.confusion, `${where}.confusion`, CLASS_COUNT).forEach((row, i) => {
    const cells = array(row, `${where}.confusion[${i}]`, CLASS_COUNT);
    if (cells.length !== CLASS_COUNT) fail(`${where}.confusion[${i}]`, `does not have ${CLASS_COUNT} entries`);
    cells.forEach((cell, j) => count(cell, `${where}.confusion[${i}][${j}]`, testCount));
  });
  if ((test.confusion as unknown[]).length !== CLASS_COUNT) fail(`${where}.confusion`, `does not have ${CLASS_COUNT} rows`);
  array(test.classes, `${where}.classes`, CLASS_COUNT).forEach((metrics, i) => {
    object(metrics, `${where}.classes[${i}]`);
    const m = metrics as Record<string, unknown>;
    for (const field of ['precision', 'recall', 'f1']) number(m[field], `${where}.classes[${i}].${field}`);
    count(m.support, `${where}.classes[${i}].support`, testCount);
  });
  array(test.mistakes, `${where}.mistakes`, MAX_MISTAKES).forEach((mistake, i) => {
    object(mistake, `${where}.mistakes[${i}]`);
    const m = mistake as Record<string, unknown>;
    count(m.index, `${where}.mistakes[${i}].index`, testCount);
    count(m.label, `${where}.mistakes[${i}].label`, CLASS_COUNT - 1);
    count(m.predicted, `${where}.mistakes[${i}].predicted`, CLASS_COUNT - 1);
    finite(m.confidence, `${where}.mistakes[${i}].confidence`);
  });
}

/** Only model.json and weights.bin, base64; weights no larger than the trial's parameters can fill. */
function checkModel(value: unknown, paramCount: number): void {
  object(value, 'model');
  const files = value as Record<string, unknown>;
  for (const name of Object.keys(files)) {
    if (!(MODEL_FILES as readonly string[]).includes(name)) fail(`model file ${JSON.stringify(name.slice(0, 40))}`, 'is not one a saved model has');
    if (typeof files[name] !== 'string') fail(`model file ${name}`, 'is not base64 text');
  }
  const json = files['model.json'] as string | undefined;
  const weights = files['weights.bin'] as string | undefined;
  if ((json === undefined) !== (weights === undefined)) fail('model', 'has only one of model.json and weights.bin');
  if (json === undefined || weights === undefined) return;
  const maxWeights = paramCount * WEIGHT_BYTES_PER_PARAM + WEIGHTS_SLACK_BYTES;
  if (Buffer.byteLength(weights, 'base64') > maxWeights) fail('model weights.bin', `is larger than ${paramCount} parameters can fill (${maxWeights} bytes)`);
  const jsonBytes = Buffer.from(json, 'base64');
  if (jsonBytes.length > MAX_MODEL_JSON_BYTES) fail('model model.json', `is larger than ${MAX_MODEL_JSON_BYTES} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(jsonBytes.toString('utf8'));
  } catch {
    fail('model model.json', 'is not JSON');
  }
  const manifest = isObject(parsed) ? parsed.weightsManifest : undefined;
  if (!Array.isArray(manifest) || manifest.length === 0) fail('model model.json', 'has no weightsManifest');
  for (const group of manifest as unknown[]) {
    const paths = isObject(group) ? group.paths : undefined;
    if (!Array.isArray(paths) || !paths.every((path) => path === 'weights.bin')) fail('model model.json', 'names weight files other than weights.bin');
  }
}

/**
 * A worker's result for `config`, checked, or an Error whose message says what is wrong with it and which worker sent
 * it (the trial is then recorded failed).
 */
export function checkedResult(value: unknown, config: TrialConfig): QueuedResult {
  const worker = isObject(value) && typeof value.worker === 'string' ? printableWorker(value.worker) : 'an unknown worker';
  try {
    object(value, 'the result');
    const queued = value as Record<string, unknown>;
    object(queued.result, 'result');
    const result = queued.result as Record<string, unknown>;
    if (!OUTCOMES.has(result.outcome as string)) fail('result.outcome', 'is not completed, diverged or interrupted');
    checkEpochs(result.epochs, 'result.epochs', config.train.epochs);
    if (result.resumedFrom !== undefined) count(result.resumedFrom, 'result.resumedFrom', config.train.epochs);
    if (typeof result.reachedEnd !== 'boolean' || typeof result.stoppedEarly !== 'boolean') fail('result', 'lacks reachedEnd or stoppedEarly');
    count(result.bestEpoch, 'result.bestEpoch', config.train.epochs);
    count(result.paramCount, 'result.paramCount');
    finite(result.seconds, 'result.seconds');
    if (result.divergedAt !== undefined) object(result.divergedAt, 'result.divergedAt');
    const testCount = config.data.testLimit ?? Number.MAX_SAFE_INTEGER;
    if (result.test !== undefined) checkTest(result.test, 'result.test', testCount);
    checkBackend(queued.backend, 'backend');
    checkModel(queued.model, result.paramCount as number);
    if (typeof queued.worker !== 'string') fail('worker', 'is not a host:pid name');
    // Recorded as the host that trained it, and shown: printable, and no longer than a host name with a pid.
    return { ...(value as unknown as QueuedResult), worker };
  } catch (error) {
    if (!(error instanceof Malformed)) throw error;
    throw new Error(`the result from ${worker} is malformed (${error.message}), so it was not recorded`);
  }
}

/** A progress event from a worker, or undefined when it is not one this runner's workers send. */
export function checkedProgress(value: unknown, config: TrialConfig): QueuedProgress | undefined {
  try {
    object(value, 'progress');
    const progress = value as Record<string, unknown>;
    switch (progress.type) {
      case 'epoch':
        checkEpoch(progress.record, 'progress.record');
        if ((progress.record as EpochRecord).epoch > config.train.epochs) fail('progress.record.epoch', 'is past train.epochs');
        break;
      case 'batch':
        for (const field of ['epoch', 'batch', 'batches'] as const) count(progress[field], `progress.${field}`);
        number(progress.loss, 'progress.loss');
        break;
      case 'ready':
        checkBackend(progress.backend, 'progress.backend');
        finite(progress.loadSeconds, 'progress.loadSeconds');
        checkEpochs(progress.restored, 'progress.restored', config.train.epochs);
        break;
      default:
        fail('progress.type', 'is not epoch, batch or ready');
    }
    return value as QueuedProgress;
  } catch (error) {
    if (error instanceof Malformed) return undefined;
    throw error;
  }
}

function printableWorker(name: string): string {
  return printable(name).slice(0, 100);
}
