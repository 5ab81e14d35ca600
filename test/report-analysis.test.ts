import { describe, expect, it } from 'vitest';
import { diffRuns } from '../src/report/diff.js';
import { runsAtRef } from '../src/report/refs.js';
import { configChanges, flatten } from '../src/report/run-config.js';
import { topConfusions } from '../src/report/run-details.js';
import { logGamma, regularizedBeta, studentTwoSidedP, welchTTest } from '../src/report/stats.js';
import type { TrialConfig } from '../src/config/resolved.js';
import type { Run } from '../src/store/run-store.js';

describe("Welch's t-test", () => {
  // Reference values from scipy.stats (ttest_ind with equal_var=False, and 2 * t.sf).
  it('matches scipy on unequal variances and sizes', () => {
    expect(welchTTest([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])).toEqual({ t: expect.closeTo(1.8973665961010275, 12), df: expect.closeTo(5.882352941176471, 12), p: expect.closeTo(0.10753119493062728, 10) });
    const r = welchTTest([0.7, 0.69, 0.705, 0.68], [0.71, 0.73, 0.72])!;
    expect(r.t).toBeCloseTo(3.2796489996607443, 10);
    expect(r.df).toBeCloseTo(4.715532467532458, 10);
    expect(r.p).toBeCloseTo(0.023939688731047282, 10);
  });

  it('gives the t distribution tails for non-integer and extreme degrees of freedom', () => {
    expect(studentTwoSidedP(2.5, 3.3)).toBeCloseTo(0.08005283630835447, 10);
    expect(studentTwoSidedP(0.3, 120.5)).toBeCloseTo(0.7646940598579267, 10);
    expect(studentTwoSidedP(-8, 2)).toBeCloseTo(0.01526807216533814, 10);
    expect(studentTwoSidedP(1, 1)).toBeCloseTo(0.5, 12); // Cauchy
    expect(studentTwoSidedP(0, 7)).toBe(1);
    expect(studentTwoSidedP(1.959963984540054, 1e7)).toBeCloseTo(0.05, 6); // the normal limit
  });

  it('needs two runs a side and some spread', () => {
    expect(welchTTest([0.8], [0.7, 0.75])).toBeNull();
    expect(welchTTest([0.8, 0.8], [0.7, 0.7])).toBeNull();
  });

  it('rests on a correct log-gamma and incomplete beta', () => {
    expect(logGamma(10)).toBeCloseTo(Math.log(362880), 12);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    expect(regularizedBeta(0.3, 2, 5) + regularizedBeta(0.7, 5, 2)).toBeCloseTo(1, 12);
    expect(regularizedBeta(0.25, 1, 1)).toBeCloseTo(0.25, 12);
  });
});

describe('config paths', () => {
  it('flattens nested objects and arrays to dotted paths and lists what changed, absent paths included', () => {
    const a = { model: { layers: [{ type: 'dense', units: 8 }] }, train: { seed: 1, optimizer: { name: 'adam' } }, augment: [] };
    const b = { model: { layers: [{ type: 'dense', units: 16 }, { type: 'dropout', rate: 0.2 }] }, train: { seed: 1, optimizer: { name: 'adam' } }, augment: [] };
    expect(flatten(a)).toEqual({ 'model.layers.0.type': 'dense', 'model.layers.0.units': 8, 'train.seed': 1, 'train.optimizer.name': 'adam', augment: [] });
    expect(configChanges(a, b)).toEqual([
      { path: 'model.layers.0.units', a: 8, b: 16 },
      { path: 'model.layers.1.type', a: undefined, b: 'dropout' },
      { path: 'model.layers.1.rate', a: undefined, b: 0.2 },
    ]);
  });
});

describe('confusions', () => {
  it('lists off-diagonal cells, most frequent first, with their share of the true class', () => {
    const confusion = [
      [8, 2, 0],
      [5, 5, 0],
      [0, 2, 18],
    ];
    expect(topConfusions(confusion, 2)).toEqual([
      { trueClass: 1, predicted: 0, count: 5, rate: 0.5 },
      { trueClass: 0, predicted: 1, count: 2, rate: 0.2 },
    ]);
  });
});

let next = 0;
function row(branch: string, commit: string, config: object, accuracy: number, seed: number): Run {
  const id = `run-${next++}`;
  return {
    id,
    sweepId: 1,
    experiment: 'e',
    file: 'e.yaml',
    // Only the fields a config's identity is made of here; the diff never looks deeper.
    config: { name: 'e', data: { dataset: 'fashion-mnist' }, ...config, train: { seed } } as unknown as TrialConfig,
    configHash: `${JSON.stringify(config)}/${seed}`,
    params: { ...config, seed },
    seed,
    repeatIndex: 0,
    git: { branch, commit, dirty: false },
    backend: 'cpu',
    gpu: false,
    tfjsVersion: null,
    device: null,
    host: 'test',
    pid: 1,
    status: 'completed',
    error: null,
    tags: {},
    note: null,
    startedAt: new Date(Date.UTC(2025, 0, 1, 0, 0, next)).toISOString(),
    finishedAt: null,
    seconds: null,
    paramCount: null,
    epochsDone: 1,
    epochBudget: null,
    attempts: 1,
    bestEpoch: null,
    testLoss: null,
    testAccuracy: accuracy,
    testSeconds: null,
    confusion: null,
    classMetrics: null,
    mistakes: [],
    modelDir: null,
    leaseExpiresAt: null,
    stale: false,
  };
}

describe('diff between refs', () => {
  const main = [row('main', 'aaaa1111', { lr: 1 }, 0.8, 1), row('main', 'aaaa1111', { lr: 1 }, 0.82, 2), row('main', 'aaaa1111', { lr: 2 }, 0.7, 1)];
  const feature = [row('feature', 'bbbb2222', { lr: 1 }, 0.78, 5), row('feature', 'bbbb2222', { lr: 1 }, 0.79, 6), row('feature', 'aaaa1111', { lr: 3 }, 0.9, 1)];

  it('pairs configs regardless of seed, means over repeats, and flags losses beyond the threshold', () => {
    const d = diffRuns('main', main, 'feature', feature, { threshold: 0.02 });
    expect(d.pairs).toHaveLength(1);
    expect(d.pairs[0]).toMatchObject({ params: { lr: 1 }, delta: expect.closeTo(-0.025, 12), regression: true });
    expect(d.pairs[0]!.test!.p).toBeGreaterThan(0.05);
    expect(d.onlyA.map((c) => c.params)).toEqual([{ lr: 2 }]);
    expect(d.onlyB.map((c) => c.params)).toEqual([{ lr: 3 }]);
    expect(d.regressions).toBe(1);
    expect(diffRuns('main', main, 'feature', feature, { threshold: 0.03 }).regressions).toBe(0);
    expect(diffRuns('main', main, 'feature', feature).pairs[0]!.regression).toBe(false);
  });

  it('finds a ref by branch first, so a new branch sharing its parent commit does not mix sides', () => {
    const all = [...main, ...feature];
    expect(runsAtRef(all, 'feature', 'aaaa1111').map((r) => r.git.branch)).toEqual(['feature', 'feature', 'feature']);
    expect(runsAtRef(all, 'aaaa')).toHaveLength(4);
    expect(runsAtRef(all, 'v1.0', 'bbbb2222')).toHaveLength(2);
    expect(runsAtRef(all, 'nothing')).toEqual([]);
  });
});
