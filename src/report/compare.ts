import { configChanges, type ConfigChange } from './run-config.js';
import { rowRates, type RunDetails, type RunMetrics } from './run-details.js';

/** `runner compare A B`: what differs between two runs' configs, and what that did to their results. */
export interface Comparison {
  a: RunDetails;
  b: RunDetails;
  configChanges: ConfigChange[];
  metrics: MetricDelta[];
  /** Per-class recall before and after, worst change first; null unless both runs have a confusion matrix. */
  classes: ClassDelta[] | null;
  /** Confusions (as shares of the true class) that changed most, either way. */
  confusionShifts: ConfusionShift[];
}

export interface MetricDelta {
  name: keyof RunMetrics;
  a: number | null;
  b: number | null;
  delta: number | null;
  /** Whether an increase is an improvement; null for neutral facts such as epochs. */
  higherIsBetter: boolean | null;
}

export interface ClassDelta {
  classIndex: number;
  recallA: number;
  recallB: number;
  delta: number;
}

export interface ConfusionShift {
  trueClass: number;
  predicted: number;
  rateA: number;
  rateB: number;
  delta: number;
}

const DIRECTION: Record<keyof RunMetrics, boolean | null> = {
  testAccuracy: true,
  testLoss: false,
  epochsDone: null,
  bestEpoch: null,
  seconds: false,
  paramCount: null,
};

export function compareRuns(a: RunDetails, b: RunDetails, options: { shifts?: number } = {}): Comparison {
  const metrics = (Object.keys(DIRECTION) as (keyof RunMetrics)[]).map((name): MetricDelta => {
    const va = a[name];
    const vb = b[name];
    return { name, a: va, b: vb, delta: va === null || vb === null ? null : vb - va, higherIsBetter: DIRECTION[name] };
  });
  return { a, b, configChanges: configChanges(a.config, b.config), metrics, ...confusionDelta(a, b, options.shifts ?? 5) };
}

/** Compared as row shares, not counts, so runs tested on different numbers of samples stay comparable. */
function confusionDelta(a: RunDetails, b: RunDetails, limit: number): Pick<Comparison, 'classes' | 'confusionShifts'> {
  if (!a.confusion || !b.confusion) return { classes: null, confusionShifts: [] };
  const ra = rowRates(a.confusion);
  const rb = rowRates(b.confusion);
  const classes = ra
    .map((row, k) => ({ classIndex: k, recallA: row[k]!, recallB: rb[k]![k]!, delta: rb[k]![k]! - row[k]! }))
    .sort((x, y) => x.delta - y.delta);
  const shifts = ra
    .flatMap((row, t) => row.map((rateA, p) => ({ trueClass: t, predicted: p, rateA, rateB: rb[t]![p]!, delta: rb[t]![p]! - rateA })))
    .filter((s) => s.trueClass !== s.predicted && s.delta !== 0)
    .sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta))
    .slice(0, limit);
  return { classes, confusionShifts: shifts };
}
