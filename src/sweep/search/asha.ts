import type { AshaMetric } from '../../config/resolved.js';
import { higherIsBetter } from '../../trial/epoch-metrics.js';
import type { EpochRecord } from '../../trial/records.js';
import { trialLabel, type TrialSpec } from '../expand.js';
import { percent, plural } from '../../ui/format.js';
import type { TrialProgress } from '../../store/run-store.js';
import type { Proposal, ProposalEnd, SearchStrategy } from './strategy.js';

/** How far each config got in earlier sweeps, by trial hash (see RunStore.trialProgress). */
export type SearchHistory = Map<string, TrialProgress>;

export interface AshaSettings {
  /** Ascending; the last is train.epochs (see rungEpochs). */
  rungs: readonly number[];
  reduction: number;
  metric: AshaMetric;
}

/** Where a config stands in this search (not a run's status). */
type Standing =
  /** Not started by this search. */
  | 'new'
  | 'training'
  /** Stopped at a rung, resumable from its checkpoint if promoted. */
  | 'paused'
  /** Nothing left to train: the top rung, early stopping, or diverged. */
  | 'ended'
  /** An earlier sweep left it short of its rung (killed, or stopped): this one continues it first. */
  | 'unfinished'
  /** Failed, interrupted in this sweep, completed or held by another runner: not this sweep's to train. */
  | 'excluded';

interface Candidate {
  spec: TrialSpec;
  standing: Standing;
  diverged: boolean;
  /** The epoch it was last asked to reach. */
  budget: number;
  /** The metric at each rung it reached, higher is better (losses negated, a diverged trial −∞). */
  scores: Map<number, number>;
}

/**
 * Asynchronous successive halving (Li et al. 2018, "A System for Massively Parallel Hyperparameter Tuning"): every
 * config trains to the first rung; whenever a slot is free, the best not-yet-promoted config in the top 1/η of a rung
 * (highest rung first) continues to the next, else a new config starts. Nobody waits for a rung to fill, at the cost of
 * promoting some configs a synchronous halving would have stopped (a config once in the top 1/η keeps its promotion
 * when better ones arrive). A promoted config continues from its checkpoint.
 */
export class AshaSearch implements SearchStrategy {
  private readonly candidates: Candidate[];

  constructor(
    specs: readonly TrialSpec[],
    private readonly settings: AshaSettings,
    history: SearchHistory,
  ) {
    // New configs start in the order of their hashes, a fixed pseudo-random order: in the grid's own order the first
    // rung would fill with one corner of the grid (its smallest learning rate, say), and every better config arriving
    // later would be promoted on top of the ones already promoted.
    const order = [...specs].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
    this.candidates = order.map((spec) => this.fromHistory(spec, history));
  }

  next(): Proposal | 'wait' | 'done' {
    const { rungs } = this.settings;
    const resume = this.candidates.find((c) => c.standing === 'unfinished');
    if (resume) return this.start(resume, resume.budget, false);
    for (let rung = rungs.length - 2; rung >= 0; rung--) {
      const promoted = this.promotable(rung);
      if (promoted) return this.start(promoted, rungs[rung + 1]!, false);
    }
    const fresh = this.candidates.find((c) => c.standing === 'new');
    if (fresh) return this.start(fresh, rungs[0]!, true);
    if (this.candidates.some((c) => c.standing === 'training')) return 'wait';
    const finalist = this.finalist();
    return finalist ? this.start(finalist, rungs[rungs.indexOf(finalist.budget) + 1]!, false) : 'done';
  }

  ended(proposal: Proposal, end: ProposalEnd): void {
    const candidate = this.candidates.find((c) => c.spec === proposal.spec)!;
    // An interrupted trial is continued by the next sweep, not this one: one killed from outside may be killed again.
    if (end.status === 'skipped' || end.status === 'failed' || end.status === 'interrupted') {
      candidate.standing = 'excluded';
      return;
    }
    this.score(candidate, end.epochs);
    if (end.status === 'diverged') this.diverge(candidate);
    candidate.standing = end.status === 'completed' && !end.reachedEnd ? 'paused' : 'ended';
  }

  /** New and unfinished configs, and the promotions due now: a re-run with only promotions left has work to do. */
  remaining(): number {
    const { rungs } = this.settings;
    const due = new Set(rungs.slice(0, -1).flatMap((_, rung) => this.topOf(rung).filter((c) => c.standing === 'paused' && c.budget === rungs[rung])));
    const queued = this.candidates.filter((c) => c.standing === 'new' || c.standing === 'unfinished').length;
    return queued + due.size + (queued + due.size === 0 && this.finalist() ? 1 : 0);
  }

  /** `27 configs of cnn-family: 18 stopped at epoch 1, 6 at epoch 3, 2 at epoch 9, 1 trained to epoch 10 (best valAccuracy 91.2%: lr=…)`. */
  outcome(): string[] {
    const { rungs, metric } = this.settings;
    const top = rungs[rungs.length - 1]!;
    const reached = (c: Candidate) => Math.max(0, ...c.scores.keys());
    const healthy = this.candidates.filter((c) => !c.diverged);
    const stops = rungs.flatMap((epoch) => {
      const n = healthy.filter((c) => c.scores.size > 0 && reached(c) === epoch).length;
      return n ? [epoch === top ? `${n} trained to epoch ${epoch}` : `${n} stopped at epoch ${epoch}`] : [];
    });
    const diverged = this.candidates.length - healthy.length;
    if (diverged) stops.push(`${diverged} diverged`);
    const unscored = healthy.filter((c) => c.scores.size === 0).length;
    if (unscored) stops.push(`${unscored} not scored at any rung`);
    const deepest = Math.max(0, ...healthy.map(reached));
    const best = healthy.filter((c) => reached(c) === deepest && Number.isFinite(c.scores.get(deepest)!)).sort((a, b) => b.scores.get(deepest)! - a.scores.get(deepest)!)[0];
    const value = best && (higherIsBetter(metric) ? 1 : -1) * best.scores.get(deepest)!;
    const shown = value === undefined ? '' : higherIsBetter(metric) ? percent(value) : value.toFixed(4);
    const experiment = this.candidates[0]?.spec.experiment ?? '';
    return [`ASHA over ${plural(this.candidates.length, 'config')} of ${experiment}: ${stops.join(', ')}${best ? `; best ${metric} at epoch ${deepest}: ${shown} (${trialLabel(best.spec)})` : ''}`];
  }

  /**
   * With fewer configs than η to the power of the rungs above the first, the top 1/η of a rung rounds down to none
   * before the top (9 configs, η = 3: 9 → 3 → 1 → 0), and the search would end with no config trained to maxEpochs.
   * Once nothing else is left, the best config of the deepest rung goes on, rung by rung, until one reaches the top.
   */
  private finalist(): Candidate | undefined {
    const { rungs } = this.settings;
    if (this.candidates.some((c) => c.scores.has(rungs[rungs.length - 1]!))) return undefined;
    for (let rung = rungs.length - 2; rung >= 0; rung--) {
      const epoch = rungs[rung]!;
      const best = this.ranked(epoch)[0];
      if (best) return best.standing === 'paused' && best.budget === epoch ? best : undefined;
    }
    return undefined;
  }

  /** The best config of the rung's top 1/η that has not gone on yet, if any. */
  private promotable(rung: number): Candidate | undefined {
    const epoch = this.settings.rungs[rung]!;
    return this.topOf(rung).find((c) => c.standing === 'paused' && c.budget === epoch);
  }

  /** The rung's top 1/η, best first: the configs that have gone on, or may. */
  private topOf(rung: number): Candidate[] {
    const members = this.ranked(this.settings.rungs[rung]!);
    return members.slice(0, Math.floor(members.length / this.settings.reduction));
  }

  /** The configs scored at `epoch`, best first. */
  private ranked(epoch: number): Candidate[] {
    return this.candidates.filter((c) => c.scores.has(epoch)).sort((a, b) => b.scores.get(epoch)! - a.scores.get(epoch)!);
  }

  /** A diverged config ranks last at the rung it was training towards, and goes no further. */
  private diverge(candidate: Candidate): void {
    candidate.diverged = true;
    candidate.scores.set(candidate.budget, Number.NEGATIVE_INFINITY);
  }

  private start(candidate: Candidate, untilEpoch: number, fresh: boolean): Proposal {
    candidate.standing = 'training';
    candidate.budget = untilEpoch;
    return { spec: candidate.spec, untilEpoch, fresh };
  }

  private score(candidate: Candidate, epochs: readonly EpochRecord[]): void {
    const rungs = new Set(this.settings.rungs);
    const { metric } = this.settings;
    const better = higherIsBetter(metric) ? 1 : -1;
    for (const record of epochs) {
      if (!rungs.has(record.epoch)) continue;
      const value = record[metric];
      candidate.scores.set(record.epoch, Number.isFinite(value) ? better * value : Number.NEGATIVE_INFINITY);
    }
  }

  /** Where an earlier sweep left the config: ASHA's state is the run database's, so a killed sweep picks up from it. */
  private fromHistory(spec: TrialSpec, history: SearchHistory): Candidate {
    const candidate: Candidate = { spec, standing: 'new', diverged: false, budget: 0, scores: new Map() };
    // The history holds no failed runs: a failed config is tried again by the next sweep, as a grid's failed trial is.
    const progress = history.get(spec.hash);
    if (!progress) return candidate;
    if (progress.leasedElsewhere) return { ...candidate, standing: 'excluded' };
    // A null budget: trained towards its end.
    candidate.budget = progress.epochBudget ?? spec.config.train.epochs;
    this.score(candidate, progress.epochs as EpochRecord[]);
    switch (progress.status) {
      case 'completed':
        candidate.standing = progress.epochBudget === null ? 'ended' : 'paused';
        break;
      case 'diverged':
        this.diverge(candidate);
        candidate.standing = 'ended';
        break;
      default:
        // Interrupted, or running under a lapsed lease (the claim reclaims it): continue towards its budget.
        candidate.standing = 'unfinished';
    }
    return candidate;
  }
}
