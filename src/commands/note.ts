import { UserError } from '../errors.js';
import { findRun } from './find-run.js';
import { openExistingStore } from './run-database.js';

export interface NoteOptions {
  clear?: boolean;
  db?: string;
}

/** `runner note RUN "text"` replaces the run's note; `--clear` removes it. */
export function noteCommand(ref: string, text: string | undefined, options: NoteOptions): number {
  if (options.clear && text !== undefined) throw new UserError('give either a note or --clear, not both');
  if (!options.clear && !text?.trim()) throw new UserError('the note is empty: write it in quotes, e.g. runner note RUN "lr too high, see run 3", or use --clear to remove it');
  const store = openExistingStore(options.db);
  try {
    const run = findRun(store, ref);
    store.noteRun(run.id, options.clear ? null : text!.trim());
    console.log(options.clear ? `${run.id}: note removed` : `${run.id}: note saved`);
    return 0;
  } finally {
    store.close();
  }
}
