import stableStringify from 'fast-json-stable-stringify';
import type { Run } from '../store/run-store.js';
import { seedlessHash } from '../trial/identity.js';
import { plural } from '../ui/format.js';
import { ashaDepth, pausedAt, pausedByAsha } from './depth.js';
import { latestPerTrial } from './latest-runs.js';
import { stat, type Stat } from './leaderboard.js';
import { configChanges, configIdentity, configKey, sweepParams, type ConfigChange } from './run-config.js';
import { welchTTest, type WelchResult } from './stats.js';

/**
 * `runner diff A B`: test accuracy of every config run on both refs, paired by config (seed ignored). Values are
 * fractions (0.85 = 85%); a side's value is the mean over its completed runs of that config, which is its single
 * run's when it has one. Failed and diverged runs are kept too, because a config that broke on B is a regression.
 */
export interface DiffResult {
  refA: string;
  refB: string;
  /** The loss (a fraction) beyond which a pair counts as a regression, when one was asked for. */
  threshold: number | null;
  pairs: DiffPair[];
  onlyA: OneSided[];
  onlyB: OneSided[];
  /** Pairs with a result on both sides: both completed, or completed on A and broken on B. */
  compared: number;
  regressions: number;
}

export interface ConfigRef {
  experiment: string;
  /** Short hash of the config without its seed, to tell apart configs whose sweep params look alike. */
  configId: string;
  params: Record<string, unknown>;
  /** ASHA's rung epochs for a config it schedules (the last is its top), else null. */
  rungs: number[] | null;
}

export interface DiffSide {
  runIds: string[];
  commits: string[];
  /** Over the completed runs. */
  accuracy: Stat;
  best: number | null;
  failed: number;
  diverged: number;
  /** The most epochs a completed run trained; null when none completed. */
  epochs: number | null;
  /** Completed runs that ASHA stopped at a rung with epochs left, their scores from that epoch. */
  paused: number;
}

export interface DiffPair extends ConfigRef {
  a: DiffSide;
  b: DiffSide;
  /** b − a of the mean accuracy. */
  delta: number | null;
  /** Welch's t-test over the seeds; null unless both sides have two or more runs with some spread. */
  test: WelchResult | null;
  /** Completed on A, only failed or diverged runs on B. */
  brokenOnB: boolean;
  /**
   * Whether both sides' completed runs stopped at the same points (an ASHA rung, or their end). Where ASHA took a
   * config to another depth on each ref, its accuracies are from different epochs: the delta is shown, but it is
   * no regression.
   */
  sameDepth: boolean;
  regression: boolean;
}

export interface OneSided extends ConfigRef {
  side: DiffSide;
  /** How this config differs from the other ref's config with the same experiment and sweep params, if there is one. */
  changedFromOtherSide: ConfigChange[] | null;
}

interface Group extends ConfigRef {
  runs: Run[];
}

/** Interrupted and running runs say nothing about the config, so they stay out. */
const COUNTED = new Set<Run['status']>(['completed', 'failed', 'diverged']);

export function diffRuns(refA: string, runsA: Run[], refB: string, runsB: Run[], options: { threshold?: number } = {}): DiffResult {
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
      const brokenOnB = sa.accuracy.n > 0 && sb.accuracy.n === 0 && sb.failed + sb.diverged > 0;
      const sameDepth = sameStopPoints(ga.runs, gb.runs);
      return {
        ...configRef(ga),
        a: sa,
        b: sb,
        delta,
        test: welchTTest(accuracies(ga.runs), accuracies(gb.runs)),
        brokenOnB,
        sameDepth,
        regression: threshold !== null && (brokenOnB || (sameDepth && delta !== null && -delta > threshold)),
      };
    })
    .sort(byConfig);
  const oneSided = (mine: Map<string, Group>, other: Map<string, Group>) =>
    [...mine]
      .filter(([key]) => !other.has(key))
      .map(([, group]): OneSided => ({ ...configRef(group), side: side(group.runs), changedFromOtherSide: counterpartChanges(group, other) }))
      .sort(byConfig);
  return {
    refA,
    refB,
    threshold,
    pairs,
    onlyA: oneSided(a, b),
    onlyB: oneSided(b, a),
    compared: pairs.filter((p) => p.delta !== null || p.brokenOnB).length,
    regressions: pairs.filter((p) => p.regression).length,
  };
}

/**
 * Why `--fail-on-regression` fails, or null when it passes (or was not asked for). Comparing nothing fails too:
 * a CI gate that passes when the refs share no config would pass forever after a rename.
 */
export function regressionGateFailure(d: DiffResult): string | null {
  if (d.threshold === null) return null;
  if (d.compared === 0) return `--fail-on-regression: no config has results on both ${d.refA} and ${d.refB}, so nothing was compared`;
  const lost = d.pairs.filter((p) => p.regression && !p.brokenOnB).length;
  const broken = d.pairs.filter((p) => p.regression && p.brokenOnB).length;
  const reasons = [lost && `${plural(lost, 'config')} lost more than ${(d.threshold * 100).toFixed(2)} pts`, broken && `${plural(broken, 'config')} only failed on ${d.refB}`];
  const found = reasons.filter(Boolean);
  return found.length ? `--fail-on-regression: ${found.join(', ')}` : null;
}

function groupByConfig(runs: Run[]): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const run of latestPerTrial(runs.filter((r) => COUNTED.has(r.status)))) {
    const key = configKey(run);
    const group = groups.get(key) ?? { experiment: run.experiment, configId: seedlessHash(run.config), params: sweepParams(run), rungs: ashaDepth(run)?.rungs ?? null, runs: [] };
    group.runs.push(run);
    groups.set(key, group);
  }
  return groups;
}

function side(runs: Run[]): DiffSide {
  const values = accuracies(runs);
  const completed = runs.filter((r) => r.status === 'completed');
  return {
    runIds: runs.map((r) => r.id),
    commits: [...new Set(runs.map((r) => r.git.commit).filter((c): c is string => c !== null))],
    accuracy: stat(values),
    best: values.length ? Math.max(...values) : null,
    failed: runs.filter((r) => r.status === 'failed').length,
    diverged: runs.filter((r) => r.status === 'diverged').length,
    epochs: completed.length ? Math.max(...completed.map((r) => r.epochsDone)) : null,
    paused: completed.filter(pausedByAsha).length,
  };
}

/** Both sides' completed runs stopped at the same points: each distinct rung ASHA paused one at, or their end. Vacuous where a side completed none. */
function sameStopPoints(a: Run[], b: Run[]): boolean {
  const points = (runs: Run[]) => [...new Set(runs.filter((r) => r.status === 'completed').map((r) => String(pausedAt(r) ?? 'end')))].sort().join(',');
  const [pa, pb] = [points(a), points(b)];
  return pa === '' || pb === '' || pa === pb;
}

function accuracies(runs: Run[]): number[] {
  return runs.filter((r) => r.status === 'completed').map((r) => r.testAccuracy).filter((v): v is number => v !== null && Number.isFinite(v));
}

/** A config present on one side only is often the other side's config with something edited: say what. */
function counterpartChanges(group: Group, other: Map<string, Group>): ConfigChange[] | null {
  const params = stableStringify(group.params);
  const counterpart = [...other.values()].find((g) => g.experiment === group.experiment && stableStringify(g.params) === params);
  if (!counterpart) return null;
  return configChanges(configIdentity(counterpart.runs[0]!), configIdentity(group.runs[0]!));
}

function configRef(group: Group): ConfigRef {
  return { experiment: group.experiment, configId: group.configId, params: group.params, rungs: group.rungs };
}

function byConfig(x: ConfigRef, y: ConfigRef): number {
  return x.experiment.localeCompare(y.experiment) || stableStringify(x.params).localeCompare(stableStringify(y.params));
}
