import { UserError } from '../errors.js';
import { tagLabels } from '../ui/format.js';
import { findRun } from './find-run.js';
import { openExistingStore } from './run-database.js';

export interface TagOptions {
  remove?: string[];
  db?: string;
}

const TAG_KEY = /^[A-Za-z_][\w.-]*$/;

/** `runner tag RUN key=value… [--remove key]`: labels that `list`, `report` and `show` can filter on and print. */
export function tagCommand(ref: string, pairs: string[], options: TagOptions): number {
  const remove = options.remove ?? [];
  const tags = Object.fromEntries(pairs.map(parseTag));
  for (const key of remove) checkKey(key, `--remove ${key}`);
  if (pairs.length === 0 && remove.length === 0) throw new UserError('nothing to do: give key=value pairs to set, or --remove KEY');
  const store = openExistingStore(options.db);
  try {
    const run = findRun(store, ref);
    store.tagRun(run.id, tags, remove);
    const now = tagLabels(store.tagsOf(run.id));
    console.log(`${run.id}: ${now || 'no tags'}`);
    return 0;
  } finally {
    store.close();
  }
}

/** `--tag key=value`, repeatable: runs must carry every one. */
export function parseTagFilter(texts: readonly string[] | undefined): Record<string, string> | undefined {
  return texts?.length ? Object.fromEntries(texts.map(parseTag)) : undefined;
}

/** `key=value`; the value may be empty or contain `=`. */
export function parseTag(text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq < 0) throw new UserError(`tag ${JSON.stringify(text)}: expected key=value, e.g. reviewed=yes`);
  const key = text.slice(0, eq);
  checkKey(key, text);
  return [key, text.slice(eq + 1)];
}

function checkKey(key: string, text: string): void {
  if (!TAG_KEY.test(key)) throw new UserError(`tag ${JSON.stringify(text)}: a tag name starts with a letter or _ and holds only letters, digits, _, . and -`);
}
