import stableStringify from 'fast-json-stable-stringify';
import { valueAt } from '../config/config-path.js';
import type { Run } from '../store/run-store.js';
import { seedlessHash } from '../trial/identity.js';
import { ashaDepth, pausedAt } from './depth.js';
import { latestPerTrial } from './latest-runs.js';
import { configDifferences, configIdentity, configKey, withoutSeed } from './run-config.js';
import { mean, variance } from './stats.js';

/** The run field ranked by. */
export type RankMetric = 'testAccuracy' | 'testLoss' | 'seconds';

/** What `--metric` and the dashboard's `metric=` accept; a Map, so that `__proto__` or `toString` is no metric. */
const RANK_METRICS = new Map<string, RankMetric>([
  ['accuracy', 'testAccuracy'],
  ['loss', 'testLoss'],
  ['time', 'seconds'],
]);
export const RANK_METRIC_NAMES = [...RANK_METRICS.keys()];

/** The metric a user named, or undefined for a name that is none. */
export function rankMetricNamed(name: string): RankMetric | undefined {
  return RANK_METRICS.get(name);
}

/** One row of the ranking: a single run, or the runs of one config over several seeds. */
export interface LeaderboardEntry {
  rank: number;
  experiment: string;
  runIds: string[];
  /** Swept values, plus the config fields that tell this entry from another of its experiment with the same swept values. */
  params: Record<string, unknown>;
  accuracy: Stat;
  loss: Stat;
  /** The most epochs any of its runs trained. */
  epochs: number;
  /** train.epochs of its config: all it could train, ASHA's top rung; null for a config that lacks it (an old runner's). */
  epochsPlanned: number | null;
  /** Where ASHA stopped its runs with epochs left, or null where they trained to their end. Runs stopped at another epoch are another entry. */
  epochBudget: number | null;
  /** For the configs of an ASHA search: its rung epochs, and how many of them the entry's runs reached; null for other runs. */
  rungs: number[] | null;
  rung: number | null;
  seconds: Stat;
  backend: string | null;
  branch: string | null;
}

export interface Stat {
  mean: number | null;
  std: number | null;
  n: number;
}

export interface Leaderboard {
  metric: RankMetric;
  /** Parameter columns: every sweep key whose value differs between the ranked entries, shown or not. */
  columns: string[];
  entries: LeaderboardEntry[];
}

/**
 * Ranks the given runs (the caller filters them, usually to completed ones); repeats of one config (same config
 * but the seed) on one branch become one entry with mean ± std, re-runs of one seed count once. Entries without a
 * value for the metric rank last. Seeds that ASHA stopped at different rungs stay apart: a mean over scores taken
 * after 1 and after 9 epochs describes neither. The ranking is by the metric alone, whatever depth a run reached
 * (a config ASHA stopped early is marked, not moved), so that one rule orders every experiment, searched or not.
 */
export function leaderboard(runs: Run[], options: { top?: number; metric?: RankMetric } = {}): Leaderboard {
  const metric = options.metric ?? 'testAccuracy';
  const groups = new Map<string, Run[]>();
  for (const run of latestPerTrial(runs)) {
    const key = `${run.git.branch}|${configKey(run)}|${pausedAt(run) ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  const firstRuns = new Map<LeaderboardEntry, Run>();
  const entries = [...groups.values()].map((group): LeaderboardEntry => {
    const first = group[0]!;
    const params = group.length > 1 ? withoutSeed(first.params) : { ...first.params };
    const epochs = Math.max(...group.map((r) => r.epochsDone));
    // The rung its deepest run reached: its seeds share a stop point, but one may have ended early (early stopping).
    const depth = ashaDepth({ ...first, epochsDone: epochs });
    const entry: LeaderboardEntry = {
      rank: 0,
      experiment: first.experiment,
      runIds: group.map((r) => r.id),
      params,
      accuracy: stat(group.map((r) => r.testAccuracy)),
      loss: stat(group.map((r) => r.testLoss)),
      epochs,
      epochsPlanned: first.config.train?.epochs ?? null,
      epochBudget: pausedAt(first),
      rungs: depth?.rungs ?? null,
      rung: depth?.rung ?? null,
      seconds: stat(group.map((r) => r.seconds)),
      backend: first.backend,
      branch: first.git.branch,
    };
    firstRuns.set(entry, first);
    return entry;
  });
  tellApart(entries, firstRuns);
  const value = (e: LeaderboardEntry) => (metric === 'testAccuracy' ? e.accuracy.mean : metric === 'testLoss' ? e.loss.mean : e.seconds.mean);
  const sign = metric === 'testAccuracy' ? -1 : 1;
  entries.sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va === null || vb === null) return (va === null ? 1 : 0) - (vb === null ? 1 : 0);
    return sign * (va - vb);
  });
  const shown = entries.slice(0, options.top ?? entries.length).map((e, i) => ({ ...e, rank: i + 1 }));
  // From every entry: with --top the shown rows may agree on a parameter that still tells them from the rest.
  return { metric, columns: varyingColumns(entries), entries: shown };
}

/** More differing fields than this (a layer inserted shifts every later index) become one `config` column. */
const MAX_DIFFERENCE_COLUMNS = 3;

/**
 * An experiment file edited between runs gives entries with the same name and swept values but different
 * configs, which would read as the same row twice: the fields that differ between them join their params.
 */
function tellApart(entries: LeaderboardEntry[], firstRuns: Map<LeaderboardEntry, Run>): void {
  const alike = new Map<string, LeaderboardEntry[]>();
  for (const entry of entries) {
    const key = `${entry.experiment}|${stableStringify(withoutSeed(entry.params))}`;
    alike.set(key, [...(alike.get(key) ?? []), entry]);
  }
  for (const set of alike.values()) {
    const identities = set.map((entry) => configIdentity(firstRuns.get(entry)!));
    const differing = configDifferences(identities).map((difference) => difference.path);
    // `augment: []` against one flip differs at `augment` and below it: the one column `augment` says it all.
    const columns = differing.filter((path) => !differing.some((other) => path.startsWith(`${other}.`)));
    set.forEach((entry, i) => {
      const identity = identities[i];
      if (columns.length > MAX_DIFFERENCE_COLUMNS) {
        entry.params.config = seedlessHash(firstRuns.get(entry)!.config);
        return;
      }
      for (const path of columns) {
        const value = valueAt(identity, path.split('.'));
        if (value !== undefined) entry.params[path] = value;
      }
    });
  }
}

function varyingColumns(entries: LeaderboardEntry[]): string[] {
  const keys = new Set(entries.flatMap((e) => Object.keys(e.params)));
  return [...keys].filter((key) => new Set(entries.map((e) => JSON.stringify(e.params[key]))).size > 1 || entries.length === 1);
}

export function stat(values: (number | null)[]): Stat {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (xs.length === 0) return { mean: null, std: null, n: 0 };
  return { mean: mean(xs), std: xs.length > 1 ? Math.sqrt(variance(xs)) : null, n: xs.length };
}
