/**
 * A trial's checkpoint: what training needs to go on after a finished epoch with the very numbers an uninterrupted
 * run gives. Its folder holds two files:
 *
 *   state.json          format (FORMAT), trial (trialHash of the config), epoch (the last finished one), random (the
 *                       trial generator's 32-bit state), stoppedEarly, best { epoch, value } (early stopping's best so
 *                       far; value null while there is none), epochs (every EpochRecord so far), iterations (the
 *                       optimizer's step count), weights { file, sha256, tensors: [{ part, shape, field?, slotName? }] }
 *   weights-<hash>.bin  the float32 values of `tensors`, in that order, back to back (little-endian): part 'model' is
 *                       model.getWeights(), 'best' the weights early stopping keeps, 'optimizer' the optimizer's state
 *                       (optimizer-state.ts; field and slotName say where each goes)
 *
 * state.json is the commit point: it is written beside as state.json.partial and renamed over the old one once the
 * weights file it names is complete, so a process killed at any moment leaves the previous checkpoint or the new one.
 * Weights files are named by their content's hash, so a save never overwrites the file the current state.json names;
 * the files it does not name are removed after each save. A checkpoint of another trial, an unknown format or a
 * weights file that does not match its hash is no checkpoint: the trial starts fresh.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrialConfig } from '../config/resolved.js';
import { trialHash } from './identity.js';
import { optimizerState, restoreOptimizerState, type OptimizerPart } from './optimizer-state.js';
import type { EpochRecord } from './records.js';

/** Raised whenever the layout changes: an older trainer's checkpoint is then ignored rather than misread. */
const FORMAT = 1;
const STATE_FILE = 'state.json';
const WEIGHTS_FILE = /^weights-[0-9a-f]{16}\.bin$/;

/** Early stopping's best epoch so far, its monitored value (NaN before the first) and, when kept, its weights. */
export interface BestEpoch {
  epoch: number;
  value: number;
  weights?: tf.Tensor[];
}

/** What the trainer carries from one epoch to the next besides the model's and the optimizer's variables. */
export interface TrainingProgress {
  /** The last finished epoch. */
  epoch: number;
  /** The trial generator's state (SeededRandom.state). */
  random: number;
  stoppedEarly: boolean;
  best: BestEpoch;
  epochs: EpochRecord[];
}

interface TensorEntry {
  part: 'model' | 'best' | 'optimizer';
  shape: number[];
  field?: string;
  slotName?: string;
}

interface CheckpointState {
  format: typeof FORMAT;
  trial: string;
  epoch: number;
  random: number;
  stoppedEarly: boolean;
  best: { epoch: number; value: number | null };
  epochs: EpochRecord[];
  iterations: number;
  weights: { file: string; sha256: string; tensors: TensorEntry[] };
}

/** The epoch a valid-looking checkpoint in `dir` holds (state.json alone is read); undefined where there is none. */
export function checkpointEpoch(dir: string): number | undefined {
  return readState(dir)?.epoch;
}

/** Replaces the checkpoint in `dir` (created if need be) with the model's, its optimizer's and `progress`'s state. */
export async function saveCheckpoint(dir: string, config: TrialConfig, model: tf.LayersModel, progress: TrainingProgress): Promise<void> {
  const optimizer = optimizerState(model.optimizer);
  const tensors: { entry: TensorEntry; tensor: tf.Tensor }[] = [
    ...model.getWeights().map((tensor) => ({ entry: { part: 'model' as const, shape: tensor.shape }, tensor })),
    ...(progress.best.weights ?? []).map((tensor) => ({ entry: { part: 'best' as const, shape: tensor.shape }, tensor })),
    ...optimizer.parts.map(({ field, slotName, tensor }) => ({ entry: { part: 'optimizer' as const, shape: tensor.shape, field, slotName }, tensor })),
  ];
  const values = await Promise.all(tensors.map(({ tensor }) => float32Values(tensor)));
  const bytes = Buffer.concat(values.map((v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength)));
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const file = `weights-${sha256.slice(0, 16)}.bin`;
  const state: CheckpointState = {
    format: FORMAT,
    trial: trialHash(config),
    epoch: progress.epoch,
    random: progress.random,
    stoppedEarly: progress.stoppedEarly,
    // JSON has no NaN.
    best: { epoch: progress.best.epoch, value: Number.isNaN(progress.best.value) ? null : progress.best.value },
    epochs: progress.epochs,
    iterations: optimizer.iterations,
    weights: { file, sha256, tensors: tensors.map(({ entry }) => entry) },
  };
  mkdirSync(dir, { recursive: true });
  writeAtomically(join(dir, file), bytes);
  writeAtomically(join(dir, STATE_FILE), JSON.stringify(state));
  for (const name of readdirSync(dir)) if (name !== STATE_FILE && name !== file) rmSync(join(dir, name), { recursive: true, force: true });
}

/**
 * Puts the checkpoint in `dir` into `model` (compiled: its optimizer takes the optimizer's state) and returns the rest
 * of the progress it holds; the returned best weights are the caller's to dispose. Undefined, with the model left
 * untouched, where `dir` holds no valid checkpoint of this trial.
 */
export async function restoreCheckpoint(dir: string, config: TrialConfig, model: tf.LayersModel): Promise<TrainingProgress | undefined> {
  const state = readState(dir);
  if (!state || state.trial !== trialHash(config)) return undefined;
  let tensors: tf.Tensor[] = [];
  try {
    const bytes = readFileSync(join(dir, state.weights.file));
    if (createHash('sha256').update(bytes).digest('hex') !== state.weights.sha256) throw new Error('the weights file does not match its hash');
    // A copy: a Buffer may start at an offset that a Float32Array cannot.
    const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    let offset = 0;
    tensors = state.weights.tensors.map(({ shape }) => {
      const size = tf.util.sizeFromShape(shape);
      offset += size;
      return tf.tensor(values.slice(offset - size, offset), shape, 'float32');
    });
    if (offset !== values.length) throw new Error('the weights file does not hold the tensors state.json lists');
    const of = (part: TensorEntry['part']) => tensors.filter((_, i) => state.weights.tensors[i]!.part === part);
    const weights = of('model');
    const current = model.getWeights();
    if (weights.length !== current.length || weights.some((w, i) => !tf.util.arraysEqual(w.shape, current[i]!.shape))) {
      throw new Error('the checkpoint holds weights of another model');
    }
    const optimizerParts: OptimizerPart[] = state.weights.tensors.flatMap((entry, i) =>
      entry.part === 'optimizer' ? [{ field: entry.field!, slotName: entry.slotName, tensor: tensors[i]! }] : [],
    );
    // Checks every part before it changes anything, so a misfit leaves the optimizer as fresh as the model.
    restoreOptimizerState(model.optimizer, { iterations: state.iterations, parts: optimizerParts });
    model.setWeights(weights);
    const best = of('best');
    // The model and the optimizer hold their own references to the data now.
    tf.dispose(tensors.filter((t) => !best.includes(t)));
    return {
      epoch: state.epoch,
      random: state.random,
      stoppedEarly: state.stoppedEarly,
      best: { epoch: state.best.epoch, value: state.best.value ?? Number.NaN, weights: best.length > 0 ? best : undefined },
      epochs: state.epochs,
    };
  } catch {
    // Missing, damaged or foreign: no checkpoint to go on from.
    tf.dispose(tensors);
    return undefined;
  }
}

function readState(dir: string): CheckpointState | undefined {
  try {
    const state = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as CheckpointState;
    const looksValid =
      state.format === FORMAT &&
      Number.isInteger(state.epoch) &&
      state.epoch >= 1 &&
      state.epochs.length === state.epoch &&
      WEIGHTS_FILE.test(state.weights.file);
    return looksValid ? state : undefined;
  } catch {
    return undefined;
  }
}

async function float32Values(tensor: tf.Tensor): Promise<Float32Array> {
  if (tensor.dtype !== 'float32') throw new Error(`a checkpoint keeps float32 tensors only, not ${tensor.dtype}`);
  return (await tensor.data()) as Float32Array;
}

/** Written beside and renamed over: a rename replaces a file whole, so readers see the old file or the new one. */
function writeAtomically(path: string, data: string | Uint8Array): void {
  const partial = `${path}.partial`;
  writeFileSync(partial, data);
  renameSync(partial, path);
}
