import { createHash } from 'node:crypto';
import stableStringify from 'fast-json-stable-stringify';
import type { RunRow } from '../store/run-store.js';
import { stat, type Stat } from './leaderboard.js';
import { configChanges, configKey, sweepParams, type ConfigChange } from './run-config.js';
import { welchTTest, type WelchResult } from './stats.js';

/**
 * `runner diff A B`: test accuracy of every config run on both refs, paired by config (seed ignored). Values are
 * fractions (0.85 = 85%); a side's value is the mean over its runs of that config, which is its single run's when
 * it has one.
 */
export interface DiffResult {
  refA: string;
  refB: string;
  /** The loss (a fraction) beyond which a pair counts as a regression, when one was asked for. */
  threshold: number | null;
  pairs: DiffPair[];
  onlyA: OneSided[];
  onlyB: OneSided[];
  regressions: number;
}

export interface ConfigRef {
  experiment: string;
  /** Short hash of the config without its seed, to tell apart configs whose sweep params look alike. */
  configId: string;
  params: Record<string, unknown>;
}

export interface DiffSide {
  runIds: string[];
  commits: string[];
  accuracy: Stat;
  best: number | null;
}

export interface DiffPair extends ConfigRef {
  a: DiffSide;
  b: DiffSide;
  /** b − a of the mean accuracy. */
  delta: number | null;
  /** Welch's t-test over the seeds; null unless both sides have two or more runs with some spread. */
  test: WelchResult | null;
  regression: boolean;
}

export interface OneSided extends ConfigRef {
  side: DiffSide;
  /** How this config differs from the other ref's config with the same experiment and sweep params, if there is one. */
  changedFromOtherSide: ConfigChange[] | null;
}

interface Group extends ConfigRef {
  runs: RunRow[];
}

export function diffRuns(refA: string, runsA: RunRow[], refB: string, runsB: RunRow[], options: { threshold?: number } = {}): DiffResult {
  const a = groupByConfig(runsA);
  const b = groupByConfig(runsB);
  const threshold = options.threshold ?? null;
  const pairs = [...a.keys()]
    .filter((key) => b.has(key))
    .map((key): DiffPair => {
      const ga = a.get(key)!;
      const gb = b.get(key)!;
      const sa = side(ga.runs);
      const sb = side(gb.runs);
      const delta = sa.accuracy.mean === null || sb.accuracy.mean === null ? null : sb.accuracy.mean - sa.accuracy.mean;
      return {
        ...configRef(ga),
        a: sa,
        b: sb,
        delta,
        test: welchTTest(accuracies(ga.runs), accuracies(gb.runs)),
        regression: threshold !== null && delta !== null && -delta > threshold,
      };
    })
    .sort(byConfig);
  const oneSided = (mine: Map<string, Group>, other: Map<string, Group>) =>
    [...mine]
      .filter(([key]) => !other.has(key))
      .map(([, group]): OneSided => ({ ...configRef(group), side: side(group.runs), changedFromOtherSide: counterpartChanges(group, other) }))
      .sort(byConfig);
  return { refA, refB, threshold, pairs, onlyA: oneSided(a, b), onlyB: oneSided(b, a), regressions: pairs.filter((p) => p.regression).length };
}

function groupByConfig(runs: RunRow[]): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const run of runs) {
    const key = configKey(run);
    const group = groups.get(key) ?? { experiment: run.experiment, configId: createHash('sha256').update(key).digest('hex').slice(0, 8), params: sweepParams(run), runs: [] };
    group.runs.push(run);
    groups.set(key, group);
  }
  return groups;
}

function side(runs: RunRow[]): DiffSide {
  const values = accuracies(runs);
  return {
    runIds: runs.map((r) => r.id),
    commits: [...new Set(runs.map((r) => r.git_commit).filter((c): c is string => c !== null))],
    accuracy: stat(values),
    best: values.length ? Math.max(...values) : null,
  };
}

function accuracies(runs: RunRow[]): number[] {
  return runs.map((r) => r.test_accuracy).filter((v): v is number => v !== null && Number.isFinite(v));
}

/** A config present on one side only is often the other side's config with something edited: say what. */
function counterpartChanges(group: Group, other: Map<string, Group>): ConfigChange[] | null {
  const params = stableStringify(group.params);
  const counterpart = [...other.values()].find((g) => g.experiment === group.experiment && stableStringify(g.params) === params);
  if (!counterpart) return null;
  const config = (g: Group) => JSON.parse(configKey(g.runs[0]!)) as unknown;
  return configChanges(config(counterpart), config(group));
}

function configRef(group: Group): ConfigRef {
  return { experiment: group.experiment, configId: group.configId, params: group.params };
}

function byConfig(x: ConfigRef, y: ConfigRef): number {
  return x.experiment.localeCompare(y.experiment) || stableStringify(x.params).localeCompare(stableStringify(y.params));
}
