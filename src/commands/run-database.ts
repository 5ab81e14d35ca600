import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../errors.js';
import { RunStore } from '../store/run-store.js';

/** Where the run database is: --db, then RUNNER_DB, then runs/runs.sqlite under the current directory. */
export function databasePath(flag: string | undefined): string {
  const given = flag ?? process.env.RUNNER_DB;
  // An empty path would resolve to the current directory.
  if (given === '') throw new UserError(flag === undefined ? 'RUNNER_DB is set but empty: unset it to use runs/runs.sqlite, or set it to a database file' : '--db needs a file path');
  return resolve(given ?? 'runs/runs.sqlite');
}

/** The database for a command that writes to it (tag, note, rm, gc): it must exist, and it is migrated if older. */
export function openExistingStore(flag: string | undefined): RunStore {
  return new RunStore(existingDatabasePath(flag));
}

/**
 * The database for a command that only reads: opened read-only, never migrated or written. SQLite's complaints about
 * the file met later, such as a damaged page, are the user's to fix: `store.asUserError` names the file in them.
 */
export function openStoreForReading(flag: string | undefined): RunStore {
  return new RunStore(existingDatabasePath(flag), { readonly: true });
}

/**
 * Runs `use` on the database opened for reading, and closes it; a complaint of SQLite's about the file (a damaged
 * page met while reading) becomes a user error naming it.
 */
export async function readingRuns<T>(flag: string | undefined, use: (store: RunStore) => T | Promise<T>): Promise<T> {
  const store = openStoreForReading(flag);
  try {
    return await use(store);
  } catch (error) {
    throw store.asUserError(error);
  } finally {
    store.close();
  }
}

function existingDatabasePath(flag: string | undefined): string {
  const path = databasePath(flag);
  if (!existsSync(path)) throw new UserError(`no run database at ${path}: run \`runner sweep FILES\` first, or point at one with --db PATH / RUNNER_DB`);
  return path;
}
