import { timeBudgetSeconds } from '../../config/search.js';
import type { RunStore } from '../../store/run-store.js';
import { plural } from '../../ui/format.js';
import type { SearchGroup } from '../checked-trials.js';
import { AshaSearch } from './asha.js';
import { BudgetedSearch } from './budget.js';
import { TrialList } from './list.js';
import { halvingEpochs, rungEpochs } from './rungs.js';
import { SearchSequence } from './sequence.js';
import type { SearchStrategy } from './strategy.js';

export interface PlannedSearches {
  search: SearchStrategy;
  /** Trials to start now: a grid's or a random search's not yet completed, the configs ASHA has still to try. */
  toRun: number;
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
  const planned: PlannedSearches = { search: new SearchSequence([]), toRun: 0, skipped: 0, runningElsewhere: 0, descriptions: [] };
  const searches = groups.map(({ file, search: settings, trials }): SearchStrategy => {
    let search: SearchStrategy;
    if (settings.strategy === 'asha') {
      const rungs = rungEpochs(settings.minEpochs, settings.maxEpochs, settings.reduction);
      const history = force ? new Map() : store.trialProgress(trials.map((t) => t.hash), branch);
      search = new AshaSearch(trials, { rungs, reduction: settings.reduction, metric: settings.metric }, history);
      planned.runningElsewhere += [...history.values()].filter((progress) => progress.leasedElsewhere).length;
      const halving = halvingEpochs(trials.length, rungs, settings.reduction);
      planned.descriptions.push(
        `${file}: ASHA over ${plural(trials.length, 'config')}, rungs at epochs ${rungs.join(', ')}, the top 1/${settings.reduction} of each rung by ${settings.metric} goes on: ` +
          `about ${halving.toLocaleString('en-US')} epochs (a few more where early promotions stand), against ${(trials.length * settings.maxEpochs).toLocaleString('en-US')} for every config to the end`,
      );
    } else {
      const todo = trials.filter((t) => !done.has(t.hash) && !elsewhere.has(t.hash));
      planned.skipped += trials.filter((t) => done.has(t.hash)).length;
      planned.runningElsewhere += trials.length - todo.length - trials.filter((t) => done.has(t.hash)).length;
      search = new TrialList(todo);
      if (settings.strategy === 'random') planned.descriptions.push(`${file}: random search, ${plural(trials.length, 'config')} sampled with seed ${settings.seed}`);
    }
    const budget = { maxTrials: settings.maxTrials, timeBudgetSeconds: timeBudgetSeconds(settings) };
    if (budget.maxTrials !== undefined || budget.timeBudgetSeconds !== undefined) search = new BudgetedSearch(search, budget);
    planned.toRun += search.remaining();
    return search;
  });
  planned.search = new SearchSequence(searches);
  return planned;
}
