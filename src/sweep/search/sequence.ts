import type { Proposal, ProposalEnd, SearchStrategy } from './strategy.js';

/** The searches of several experiment files in one sweep, each file's in the order given, while there is room. */
export class SearchSequence implements SearchStrategy {
  private readonly owner = new Map<Proposal, SearchStrategy>();

  constructor(private readonly searches: readonly SearchStrategy[]) {}

  next(): Proposal | 'wait' | 'done' {
    let waiting = false;
    for (const search of this.searches) {
      const proposal = search.next();
      if (proposal === 'wait') waiting = true;
      if (typeof proposal === 'string') continue;
      this.owner.set(proposal, search);
      return proposal;
    }
    return waiting ? 'wait' : 'done';
  }

  ended(proposal: Proposal, end: ProposalEnd): void {
    const search = this.owner.get(proposal)!;
    this.owner.delete(proposal);
    search.ended(proposal, end);
  }

  remaining(): number {
    return this.searches.reduce((n, search) => n + search.remaining(), 0);
  }

  outcome(): string[] {
    return this.searches.flatMap((search) => search.outcome());
  }
}
