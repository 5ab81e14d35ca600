import { UnrecoverableError } from 'bullmq';
import { BACKEND_REQUESTS } from '../../backend/names.js';
import type { BackendInfo, BackendRequest } from '../../backend/select.js';
import type { TrialConfig } from '../../config/resolved.js';
import { schemaErrors } from '../../config/schema.js';
import { RUN_ID } from '../../store/run-folders.js';
import { trialConfigProblems } from '../../config/trial-checks.js';
import { trialHash } from '../../trial/identity.js';
import type { EpochRecord } from '../../trial/records.js';
import type { TrialResult } from '../../trial/run-trial.js';
import type { TrialJob } from '../executor.js';

/**
 * What a queued job carries: a trial spec and nothing else. No file path of the coordinator's machine (`data.path`
 * is removed: each worker finds its own copy of the dataset), and no code: a worker checks it like an experiment
 * file before it trains (`checkedQueuedTrial`).
 */
export interface QueuedTrial {
  experiment: string;
  config: TrialConfig;
  hash: string;
  params: Record<string, unknown>;
  repeatIndex: number;
  /** The coordinator's run row: names the worker's checkpoint folder, and lets a coordinator tell its own jobs apart. */
  runId: string;
  untilEpoch?: number;
  /** The git commit the coordinator runs; a worker on another commit refuses the job. Absent outside a git checkout. */
  commit?: string;
  /** The coordinator's --backend, when it gave one; else the trial's own `backend` field decides. */
  backend?: BackendRequest;
}

/** The files of a saved model, the only ones a worker sends and the coordinator writes. */
export const MODEL_FILES = ['model.json', 'weights.bin'] as const;

/** What a worker returns for a trained trial; the coordinator records it and writes the model into its run folder. */
export interface QueuedResult {
  result: TrialResult;
  backend: BackendInfo;
  /** The worker, as `host:pid`. */
  worker: string;
  /** The saved model's files, base64, by name (model.json, weights.bin); none when training stopped before the test. */
  model: Record<string, string>;
}

/** The trial's identity plus the commit: the same sweep enqueued twice adds nothing, and another commit's is another job. */
export function queuedJobId(trial: Pick<QueuedTrial, 'hash' | 'commit' | 'untilEpoch'>): string {
  return `${trial.hash}-${trial.commit ?? 'nogit'}${trial.untilEpoch === undefined ? '' : `-e${trial.untilEpoch}`}`;
}

export function queuedTrialOf(job: TrialJob, commit: string | undefined, backend: BackendRequest | undefined): QueuedTrial {
  const { spec } = job;
  const { path: _path, ...data } = spec.config.data;
  return {
    experiment: spec.experiment,
    config: { ...spec.config, data },
    hash: spec.hash,
    params: spec.params,
    repeatIndex: spec.repeatIndex,
    runId: job.runId,
    ...(job.untilEpoch === undefined ? {} : { untilEpoch: job.untilEpoch }),
    ...(commit === undefined ? {} : { commit }),
    ...(backend === undefined ? {} : { backend }),
  };
}

const HEX = (digits: string) => new RegExp(`^[0-9a-f]{${digits}}$`);

/**
 * A job's data as a worker may trust it, or an UnrecoverableError (the job fails at once, not retried) saying what is
 * wrong: its config must pass the experiment schema and the checks of one trial, and hash to the job's hash, so
 * nobody who can write to the queue can make a worker train anything but a well-formed experiment trial.
 */
export function checkedQueuedTrial(data: unknown): QueuedTrial {
  const refuse = (problem: string) => new UnrecoverableError(`refused: the job is not a trial this runner would enqueue (${problem})`);
  if (!data || typeof data !== 'object') throw refuse('its data is not an object');
  const trial = data as Partial<QueuedTrial>;
  if (typeof trial.experiment !== 'string' || trial.experiment === '') throw refuse('no experiment name');
  if (typeof trial.hash !== 'string' || !HEX('16').test(trial.hash)) throw refuse('no trial hash');
  if (trial.commit !== undefined && (typeof trial.commit !== 'string' || !HEX('40,64').test(trial.commit))) throw refuse('its commit is not a git commit');
  if (trial.backend !== undefined && !BACKEND_REQUESTS.includes(trial.backend)) throw refuse(`unknown backend ${JSON.stringify(trial.backend)}`);
  if (trial.untilEpoch !== undefined && !(Number.isInteger(trial.untilEpoch) && trial.untilEpoch >= 1)) throw refuse('untilEpoch is not a positive whole number');
  if (!Number.isInteger(trial.repeatIndex) || !trial.params || typeof trial.params !== 'object') throw refuse('its repeat or params are missing');
  // The run id and commit name a folder on the worker's disk: nothing but the formats this runner writes.
  if (typeof trial.runId !== 'string' || !RUN_ID.test(trial.runId)) throw refuse('its run id is not one this runner writes');
  const config = trial.config as unknown;
  if (!config || typeof config !== 'object') throw refuse('no config');
  if ((config as TrialConfig).data?.path !== undefined) throw refuse('its config names a data.path, which never travels');
  const errors = schemaErrors(config);
  if (errors.length) throw refuse(`its config fails the experiment schema: ${errors.slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')}`);
  const problems = trialConfigProblems(config as TrialConfig);
  if (problems.length) throw refuse(`its config is not a valid trial: ${problems.map((p) => p.message).join('; ')}`);
  if ((config as TrialConfig).name !== trial.experiment) throw refuse(`its experiment ${JSON.stringify(trial.experiment)} is not its config's name`);
  if (trialHash(config as TrialConfig) !== trial.hash) throw refuse(`its config hashes to ${trialHash(config as TrialConfig)}, not to the job's ${trial.hash}`);
  return trial as QueuedTrial;
}

/**
 * JSON, with NaN and ±Infinity kept (a diverged trial's loss), which plain JSON would turn into null: BullMQ stores
 * return values as JSON.
 */
export function encodeResult(result: QueuedResult): string {
  return JSON.stringify(result, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? { nonFinite: String(value) } : value));
}

export function decodeResult(text: string): QueuedResult {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const keys = Object.keys(value);
      if (keys.length === 1 && keys[0] === 'nonFinite') return Number((value as { nonFinite: string }).nonFinite);
    }
    return value;
  }) as QueuedResult;
}

/** What a worker reports while it trains, as BullMQ job progress. `ready`: restored, the epochs its checkpoint brought back. */
export type QueuedProgress =
  | { type: 'ready'; backend: BackendInfo; loadSeconds: number; restored: EpochRecord[] }
  | { type: 'epoch'; record: EpochRecord }
  | { type: 'batch'; epoch: number; batch: number; batches: number; loss: number };
