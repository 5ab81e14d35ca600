import type { TrialSpec } from '../expand.js';
import type { Proposal, SearchStrategy } from './strategy.js';

/**
 * Grid and random search: a fixed list of trials (the grid's product, or configs sampled from a seeded generator),
 * each trained to its end, in order. Trials done in earlier sweeps are skipped when claimed.
 */
export class TrialList implements SearchStrategy {
  private position = 0;

  constructor(private readonly trials: readonly TrialSpec[]) {}

  next(): Proposal | 'done' {
    const spec = this.trials[this.position];
    if (!spec) return 'done';
    this.position++;
    return { spec, fresh: true };
  }

  ended(): void {}

  remaining(): number {
    return this.trials.length - this.position;
  }

  outcome(): string[] {
    return [];
  }
}
