import type { FinalStatus } from '../../run-status.js';
import type { EpochRecord } from '../../trial/records.js';
import type { TrialSpec } from '../expand.js';

/** A trial a search wants trained next. */
export interface Proposal {
  spec: TrialSpec;
  /** Stop after this epoch, resumable (an ASHA rung); all of train.epochs when absent. */
  untilEpoch?: number;
  /** A config this search has not tried before (not a promotion, nor a resumption): what `maxTrials` counts. */
  fresh: boolean;
}

/** How a proposal ended, as the sweep recorded it. */
export type ProposalEnd =
  | { status: FinalStatus; epochs: EpochRecord[]; reachedEnd: boolean }
  /** Nothing was trained: completed already, held by another runner, or the sweep stopped before it could start. */
  | { status: 'skipped' };

/**
 * What to try next, from the results so far: grid, random and ASHA are strategies. The sweep asks for trials while
 * it has room to train them and reports how each ended; a strategy never knows where its trials train (processes
 * on this machine, or workers on others).
 */
export interface SearchStrategy {
  /** The next trial; `wait` while what comes next depends on trials still training; `done` when nothing is left. */
  next(): Proposal | 'wait' | 'done';
  ended(proposal: Proposal, end: ProposalEnd): void;
  /** Trials it would still start, for the stopping message; a lower bound where results decide (ASHA). */
  remaining(): number;
  /** Lines on where the search left its configs, for the sweep's summary; none for a plain list of trials. */
  outcome(): string[];
}
