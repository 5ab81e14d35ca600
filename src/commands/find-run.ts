import { UserError } from '../errors.js';
import type { Run, RunStore } from '../store/run-store.js';

/** A run named on the command line by id or unique prefix; a clear error when the prefix matches none or several. */
export function findRun(store: RunStore, ref: string): Run {
  if (!ref.trim()) throw new UserError('an empty run id matches every run: give a run id or the start of one (`runner list` shows them)');
  const run = store.run(ref);
  if (run) return run;
  const matches = store.runIdsWithPrefix(ref);
  if (matches.length === 0) throw new UserError(`no run with id ${JSON.stringify(ref)} in ${store.path}: \`runner list\` shows the recorded runs`);
  throw new UserError(`run id prefix ${JSON.stringify(ref)} is ambiguous: it matches ${matches.join(', ')}${matches.length === 5 ? ', …' : ''}; give more characters`);
}
