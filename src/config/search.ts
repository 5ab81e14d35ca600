import ms from 'ms';
import type { SearchConfig } from './experiment.types.js';
import type { RandomSampling, SearchSettings, SearchLimits } from './resolved.js';

/** A time budget shorter than this could not let a single trial start. */
const SHORTEST_BUDGET_SECONDS = 1;

/**
 * A search section whose defaults the schema has filled (strategy, candidates, seed and ASHA's), resolved to the
 * fields its strategy reads, in the schema's order. `epochs`: the file's train.epochs, ASHA's maxEpochs by default.
 * The loader has checked the combination (search-checks.ts), so `trials` is there wherever it is read.
 */
export function resolveSearch(search: SearchConfig, epochs: number): SearchSettings {
  const limits: SearchLimits = { ...(search.maxTrials !== undefined && { maxTrials: search.maxTrials }), ...(search.timeBudget !== undefined && { timeBudget: search.timeBudget }) };
  if (search.strategy === 'random') return { strategy: 'random', trials: search.trials!, seed: search.seed!, ...limits };
  if (search.strategy === 'grid') return { strategy: 'grid', ...limits };
  const asha = { minEpochs: search.minEpochs!, maxEpochs: search.maxEpochs ?? epochs, reduction: search.reduction!, metric: search.metric!, ...limits };
  if (search.candidates === 'random') return { strategy: 'asha', trials: search.trials!, candidates: 'random', seed: search.seed!, ...asha };
  return { strategy: 'asha', candidates: 'grid', ...asha };
}

/** True when the search draws its configs at random rather than taking every combination of the grid. */
export function samplesRandomly(search: SearchSettings): search is Extract<SearchSettings, RandomSampling> {
  return search.strategy === 'random' || (search.strategy === 'asha' && search.candidates === 'random');
}

/** The search's time budget in seconds, or undefined when it has none. */
export function timeBudgetSeconds(search: SearchSettings): number | undefined {
  return search.timeBudget === undefined ? undefined : durationSeconds(search.timeBudget);
}

/**
 * `90m`, `2h`, `45s` in seconds; undefined when the text is no duration of at least a second. The schema's pattern
 * admits only a number and one unit; this is the value the pattern cannot bound.
 */
export function durationSeconds(text: string): number | undefined {
  const millis = ms(text as ms.StringValue);
  const seconds = typeof millis === 'number' && Number.isFinite(millis) ? millis / 1000 : NaN;
  return seconds >= SHORTEST_BUDGET_SECONDS ? seconds : undefined;
}
