import type { AshaMetric } from '../config/resolved.js';
import type { Run } from '../store/run-store.js';
import { rungEpochs } from '../sweep/search/rungs.js';
import { epochsLabel } from '../ui/format.js';

/**
 * How far an ASHA trial got. Its run holds one config however deep ASHA took it, and its test scores are those at
 * the depth it reached, so every view says where that was before anyone compares the scores.
 */
export interface AshaDepth {
  /** The rung epochs, ascending; the last is train.epochs, the top. */
  rungs: number[];
  /** How many rungs it reached: 1 is the first, rungs.length the top. */
  rung: number;
  /** Stopped at a rung with epochs left, because it was not in that rung's top 1/reduction: it can still go on. */
  paused: boolean;
  reduction: number;
  metric: AshaMetric;
}

/** Null for a run that no ASHA search scheduled (grid, random, or recorded before searches). */
export function ashaDepth(run: Run): AshaDepth | null {
  const search = run.config.search;
  if (search?.strategy !== 'asha') return null;
  const rungs = rungEpochs(search.minEpochs, run.config.train.epochs, search.reduction);
  return { rungs, rung: rungs.filter((epoch) => epoch <= run.epochsDone).length, paused: pausedByAsha(run), reduction: search.reduction, metric: search.metric };
}

/** A completed run with an epoch budget left: ASHA stopped it there (RunStore's epochBudget). */
export function pausedByAsha(run: Run): boolean {
  return run.status === 'completed' && run.epochBudget !== null;
}

/** The epoch ASHA stopped the run at, or null for a run that went to its end (or is not over). */
export function pausedAt(run: Run): number | null {
  return pausedByAsha(run) ? run.epochBudget : null;
}

/** `3/10 · asha`, `10/10`, or `7` for a run of no ASHA search. */
export function runEpochsLabel(run: Run): string {
  const depth = ashaDepth(run);
  return epochsLabel(run.epochsDone, depth?.rungs ?? null, depth?.paused ?? false);
}

const METRIC_NAMES: Record<AshaMetric, string> = { valAccuracy: 'validation accuracy', valLoss: 'validation loss', accuracy: 'training accuracy', loss: 'training loss' };

/** What the metric that ranks a rung is called in a sentence. */
export function metricName(metric: AshaMetric): string {
  return METRIC_NAMES[metric];
}

