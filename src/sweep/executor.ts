import type { TrialSpec } from './expand.js';
import type { TrialProcessEvents, TrialProcessOutcome } from './trial-process.js';

/**
 * A trial's stop reason, and what its run is recorded with, when this runner lost the run's lease to another runner
 * (which may be continuing it): an executor leaves such a trial's job to that runner.
 */
export const LOST_LEASE =
  'not recorded: this runner lost its lease (it was frozen or cut off from the database for longer than a lease) and another runner reclaimed the run';

/** One trial to train: the run it is recorded as, what it trains, and how far. */
export interface TrialJob {
  runId: string;
  spec: TrialSpec;
  /** Train through this epoch and stop there, resumable (an ASHA rung); through `train.epochs` when absent. */
  untilEpoch?: number;
}

/**
 * Where trials train: processes on this machine, or workers that pull them from a queue. The sweep drives one
 * without knowing which: it hands over a job, hears its progress, and gets back how it ended.
 */
export interface Executor {
  /** Trials it trains at once; the sweep never hands it more. */
  readonly capacity: number;
  /** Trains `job`; `stop` aborts it (the trial reports `interrupted`). Never rejects: a failure is an outcome. */
  run(job: TrialJob, events: TrialProcessEvents, stop: AbortSignal): Promise<TrialProcessOutcome>;
  /** Releases what it holds (a queue's connections) once the sweep has no more trials for it. */
  close?(): Promise<void>;
}
