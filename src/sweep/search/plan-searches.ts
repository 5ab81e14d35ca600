import { timeBudgetSeconds } from '../../config/search.js';
import type { RunStore } from '../../store/run-store.js';
import { plural } from '../../ui/format.js';
import type { SearchGroup } from '../checked-trials.js';
import { AshaSearch } from './asha.js';
import { BudgetedSearch } from './budget.js';
import { TrialList } from './list.js';
import { ashaPlanLine, rungEpochs } from './rungs.js';
import { SearchSequence } from './sequence.js';
import type { SearchStrategy } from './strategy.js';

export interface PlannedSearches {
  /** Its `remaining()`: the trials to start now, a grid's or a random search's not yet completed, the configs ASHA has still to try. */
  search: SearchStrategy;
  /** Completed on this branch already (grid and random). */
  skipped: number;
  /** Held by another runner's live lease (grid and random). */
  runningElsewhere: number;
  /** One line per file whose search is not a plain grid, saying what it will do. */
  descriptions: string[];
}

/** Each file's search, picking up where earlier sweeps on this branch left it (unless forced). */
export function planSearches(groups: readonly SearchGroup[], store: RunStore, branch: string | undefined, force: boolean): PlannedSearches {
  const done = force ? new Set<string>() : store.completedHashes(branch);
  const elsewhere = store.leasedHashes(branch);
  const planned: PlannedSearches = { search: new SearchSequence([]), skipped: 0, runningElsewhere: 0, descriptions: [] };
  const searches = groups.map(({ file, search: settings, trials }): SearchStrategy => {
    const budget = { maxTrials: settings.maxTrials, timeBudgetSeconds: timeBudgetSeconds(settings) };
    let search: SearchStrategy;
    let started = 0;
    if (settings.strategy === 'asha') {
      const rungs = rungEpochs(settings.minEpochs, settings.maxEpochs, settings.reduction);
      const history = force ? new Map() : store.trialProgress(trials.map((t) => t.hash), branch);
      search = new AshaSearch(trials, { rungs, reduction: settings.reduction, metric: settings.metric }, history);
      // Configs earlier sweeps started count against maxTrials, so that a re-run starts no more than the budget.
      started = history.size;
      planned.runningElsewhere += [...history.values()].filter((progress) => progress.leasedElsewhere).length;
      planned.descriptions.push(ashaPlanLine(file, trials.length, rungs, settings.reduction, settings.metric));
    } else {
      // A list's maxTrials is its first trials, so that a re-run of a finished search starts no more.
      const listed = budget.maxTrials === undefined ? trials : trials.slice(0, budget.maxTrials);
      const completed = listed.filter((t) => done.has(t.hash)).length;
      const todo = listed.filter((t) => !done.has(t.hash) && !elsewhere.has(t.hash));
      planned.skipped += completed;
      planned.runningElsewhere += listed.length - todo.length - completed;
      search = new TrialList(todo);
      budget.maxTrials = undefined;
      const limit = listed.length < trials.length ? `, the first ${listed.length} by maxTrials` : '';
      if (settings.strategy === 'random') planned.descriptions.push(`${file}: random search, ${plural(trials.length, 'config')} sampled with seed ${settings.seed}${limit}`);
      else if (limit) planned.descriptions.push(`${file}: ${plural(trials.length, 'trial')}${limit}`);
    }
    if (budget.maxTrials !== undefined || budget.timeBudgetSeconds !== undefined) search = new BudgetedSearch(search, budget, started);
    return search;
  });
  planned.search = new SearchSequence(searches);
  return planned;
}
