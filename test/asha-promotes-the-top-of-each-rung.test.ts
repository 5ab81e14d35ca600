import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TrialConfig } from '../src/config/resolved.js';
import type { TrialSpec } from '../src/sweep/expand.js';
import { AshaSearch, type AshaSettings, type SearchHistory } from '../src/sweep/search/asha.js';
import { BudgetedSearch } from '../src/sweep/search/budget.js';
import { TrialList } from '../src/sweep/search/list.js';
import { halvingEpochs, rungEpochs } from '../src/sweep/search/rungs.js';
import type { Proposal, SearchStrategy } from '../src/sweep/search/strategy.js';
import type { EpochRecord } from '../src/trial/records.js';

const TOP = 10;

/** A config whose validation accuracy is `quality` plus a little per epoch: its rank is the same at every rung. */
function spec(i: number): TrialSpec {
  const config = { name: 'c', train: { epochs: TOP } } as unknown as TrialConfig;
  // Real hashes: new configs start in hash order, which must not be the order of their quality.
  return { experiment: 'c', file: 'c.yaml', config, params: { i }, repeatIndex: 0, hash: createHash('sha256').update(String(i)).digest('hex').slice(0, 16) };
}

const quality = (s: TrialSpec) => 0.5 + (s.params.i as number) / 100;

function epochsOf(s: TrialSpec, through: number): EpochRecord[] {
  return Array.from({ length: through }, (_, k) => ({ epoch: k + 1, loss: 1, accuracy: 0.5, valLoss: 1 - quality(s), valAccuracy: quality(s) + (k + 1) / 1000, seconds: 1, validationSeconds: 0 }));
}

/** Trains one proposal at a time to its rung and reports it, as a sweep with one slot would. */
function drive(search: SearchStrategy): Proposal[] {
  const started: Proposal[] = [];
  for (let proposal = search.next(); typeof proposal !== 'string'; proposal = search.next()) {
    started.push(proposal);
    const through = proposal.untilEpoch ?? TOP;
    search.ended(proposal, { status: 'completed', epochs: epochsOf(proposal.spec, through), reachedEnd: through === TOP });
  }
  return started;
}

const settings = (metric: AshaSettings['metric'] = 'valAccuracy'): AshaSettings => ({ rungs: rungEpochs(1, TOP, 3), reduction: 3, metric });

describe('ASHA', () => {
  it('rungs are minEpochs × η^k below maxEpochs, then maxEpochs', () => {
    expect(rungEpochs(1, 10, 3)).toEqual([1, 3, 9, 10]);
    expect(rungEpochs(2, 10, 2)).toEqual([2, 4, 8, 10]);
    expect(rungEpochs(1, 4, 1.5)).toEqual([1, 2, 3, 4]);
    expect(halvingEpochs(27, [1, 3, 9, 10], 3)).toBe(27 + 9 * 2 + 3 * 6 + 1);
  });

  it('promotes only from the top 1/η of a rung, continues promoted configs where they stopped, and trains the best to the top', () => {
    const specs = Array.from({ length: 27 }, (_, i) => spec(i));
    const started = drive(new AshaSearch(specs, settings(), new Map()));
    // Every config once at the first rung, fresh; every later start continues one of them.
    expect(started.filter((p) => p.fresh).map((p) => p.untilEpoch)).toEqual(specs.map(() => 1));
    expect(started.filter((p) => !p.fresh).every((p) => p.untilEpoch! > 1)).toBe(true);
    const deepest = new Map<string, number>();
    for (const p of started) deepest.set(p.spec.hash, Math.max(deepest.get(p.spec.hash) ?? 0, p.untilEpoch!));
    const top = [...deepest].filter(([, epoch]) => epoch === TOP).map(([hash]) => hash);
    expect(top).toContain(specs[26]!.hash);
    // With one slot and ranks that never change, asynchronous promotions stay close to synchronous halving's count.
    const epochs = started.reduce((n, p) => n + p.untilEpoch! - (deepestBefore(started, p) ?? 0), 0);
    expect(epochs).toBeGreaterThanOrEqual(halvingEpochs(27, settings().rungs, 3));
    expect(epochs).toBeLessThanOrEqual(Math.ceil(270 / 3));
  });

  it('ranks losses downwards, and trains the best config to the top even where the top 1/η of a rung rounds down to none', () => {
    const specs = Array.from({ length: 9 }, (_, i) => spec(i));
    const started = drive(new AshaSearch(specs, settings('valLoss'), new Map()));
    expect(started.filter((p) => p.untilEpoch === TOP).map((p) => p.spec.hash)).toEqual([specs[8]!.hash]);
  });

  it('rebuilt from the run database mid-search, it resumes the interrupted config first and decides as before', () => {
    const specs = Array.from({ length: 9 }, (_, i) => spec(i));
    const straight = drive(new AshaSearch(specs, settings(), new Map())).map((p) => [p.spec.hash, p.untilEpoch]);
    // The same search stopped after its sixth start, which was training (interrupted), as a killed sweep leaves it.
    const first = new AshaSearch(specs, settings(), new Map());
    const history: SearchHistory = new Map();
    for (let n = 0; n < 6; n++) {
      const p = first.next() as Proposal;
      const through = p.untilEpoch!;
      const interrupted = n === 5;
      const before = history.get(p.spec.hash)?.epochs.length ?? 0;
      history.set(p.spec.hash, {
        status: interrupted ? 'interrupted' : 'completed',
        epochBudget: through === TOP && !interrupted ? null : through,
        epochs: epochsOf(p.spec, interrupted ? before : through),
        leasedElsewhere: false,
      });
      if (!interrupted) first.ended(p, { status: 'completed', epochs: epochsOf(p.spec, through), reachedEnd: through === TOP });
    }
    const resumed = drive(new AshaSearch(specs, settings(), history)).map((p) => [p.spec.hash, p.untilEpoch]);
    expect([...straight.slice(0, 5), ...resumed]).toEqual(straight);
  });

  it('a diverged config counts in its rung as the worst, a failed one not at all; neither is promoted', () => {
    const specs = Array.from({ length: 4 }, (_, i) => spec(i));
    const search = new AshaSearch(specs, settings(), new Map());
    const [diverged, failed, worse, better] = [0, 1, 2, 3].map(() => search.next() as Proposal);
    search.ended(diverged!, { status: 'diverged', epochs: [], reachedEnd: true });
    search.ended(failed!, { status: 'failed', epochs: [], reachedEnd: true });
    const [low, high] = quality(worse!.spec) < quality(better!.spec) ? [worse!, better!] : [better!, worse!];
    search.ended(low, { status: 'completed', epochs: epochsOf(low.spec, 1), reachedEnd: false });
    search.ended(high, { status: 'completed', epochs: epochsOf(high.spec, 1), reachedEnd: false });
    // Three scored members of the first rung (the diverged one among them): one goes on, the best.
    expect(search.next()).toMatchObject({ spec: { hash: high.spec.hash }, untilEpoch: 3, fresh: false });
    expect(search.next()).toBe('wait');
  });
});

describe('search budgets', () => {
  it('maxTrials stops new configs but lets promotions go on', () => {
    const specs = Array.from({ length: 9 }, (_, i) => spec(i));
    const started = drive(new BudgetedSearch(new AshaSearch(specs, settings(), new Map()), { maxTrials: 3 }));
    expect(new Set(started.map((p) => p.spec.hash)).size).toBe(3);
    expect(started.some((p) => !p.fresh)).toBe(true);
  });

  it('configs earlier sweeps started count against maxTrials', () => {
    const specs = Array.from({ length: 9 }, (_, i) => spec(i));
    const started = drive(new BudgetedSearch(new AshaSearch(specs, settings(), new Map()), { maxTrials: 3 }, 3));
    expect(started).toEqual([]);
  });

  it('a spent time budget starts nothing, and says so', () => {
    const search = new BudgetedSearch(new TrialList([spec(0), spec(1)]), { timeBudgetSeconds: 60 }, 0, Date.now() - 61_000);
    expect(search.next()).toBe('done');
    expect(search.outcome()).toEqual(['stopped starting trials: its time budget of 1m00s ran out with 2 trials not started']);
  });
});

/** The epoch a proposal's config had reached before it: its previous start's rung. */
function deepestBefore(started: Proposal[], proposal: Proposal): number | undefined {
  const earlier = started.slice(0, started.indexOf(proposal)).filter((p) => p.spec.hash === proposal.spec.hash);
  return earlier.at(-1)?.untilEpoch;
}
