import { duration, plural } from '../../ui/format.js';
import type { Proposal, ProposalEnd, SearchStrategy } from './strategy.js';

export interface SearchBudget {
  /** New configs to start, at most. */
  maxTrials?: number;
  /** Seconds after which nothing new starts (promotions and resumptions included); running trials finish. */
  timeBudgetSeconds?: number;
}

/** A search that stops starting trials once its budget is spent; what runs finishes and is recorded. */
export class BudgetedSearch implements SearchStrategy {
  private readonly deadline: number;
  private running = 0;
  /** Why it stopped starting trials it still had, once it did. */
  private spent?: string;

  /** `started`: configs earlier sweeps of this search started, which count against `maxTrials` too. */
  constructor(
    private readonly search: SearchStrategy,
    private readonly budget: SearchBudget,
    private started = 0,
    now = Date.now(),
  ) {
    this.deadline = budget.timeBudgetSeconds === undefined ? Number.POSITIVE_INFINITY : now + budget.timeBudgetSeconds * 1000;
  }

  next(): Proposal | 'wait' | 'done' {
    if (Date.now() >= this.deadline) {
      if (this.search.remaining() > 0) this.spent ??= `its time budget of ${duration(this.budget.timeBudgetSeconds!)} ran out with ${plural(this.search.remaining(), 'trial')} not started`;
      return this.running ? 'wait' : 'done';
    }
    let proposal = this.search.next();
    while (typeof proposal !== 'string' && proposal.fresh && this.budget.maxTrials !== undefined && this.started >= this.budget.maxTrials) {
      this.spent ??= `maxTrials ${this.budget.maxTrials} reached`;
      // A search cannot take a proposal back: one it wants beyond the budget ends as if skipped.
      this.search.ended(proposal, { status: 'skipped' });
      proposal = this.search.next();
    }
    if (typeof proposal === 'string') return proposal;
    if (proposal.fresh) this.started++;
    this.running++;
    return proposal;
  }

  ended(proposal: Proposal, end: ProposalEnd): void {
    this.running--;
    this.search.ended(proposal, end);
  }

  outcome(): string[] {
    return [...this.search.outcome(), ...(this.spent ? [`stopped starting trials: ${this.spent}`] : [])];
  }

  remaining(): number {
    return Date.now() >= this.deadline ? 0 : Math.min(this.search.remaining(), (this.budget.maxTrials ?? Number.POSITIVE_INFINITY) - this.started);
  }
}
