import type { BackendInfo, BackendName } from '../backend/select.js';
import type { TrialConfig } from '../config/resolved.js';
import type { DataLocation } from '../data/locate.js';
import type { TrialResult } from './run-trial.js';
import type { EpochRecord } from './records.js';

/** What the parent sends a trial worker: a finished trial spec, never YAML. */
export interface RunTrialMessage {
  type: 'run';
  config: TrialConfig;
  backend: BackendName;
  /** The GPU to train on, where the machine has several. */
  gpu?: string;
  data: DataLocation;
  modelDir: string;
  /** Saved at every epoch's end, before its `epoch` message; a checkpoint of this trial found there is gone on from. */
  checkpointDir?: string;
  /** Train through this epoch at most, then end as completed (test score, saved model) with `reachedEnd` false. */
  untilEpoch?: number;
}

/** What a worker reports back; the parent alone writes them to the database. */
export type WorkerMessage =
  /** Sent once the model is ready to train: the epochs a checkpoint restored (none when it starts afresh). */
  | { type: 'ready'; backend: BackendInfo; loadSeconds: number; restored: EpochRecord[] }
  | { type: 'batch'; epoch: number; batch: number; batches: number; loss: number }
  | { type: 'epoch'; record: EpochRecord }
  | { type: 'result'; result: TrialResult; backend: BackendInfo }
  | { type: 'error'; message: string };
