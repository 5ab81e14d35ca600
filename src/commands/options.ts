import { resolve } from 'node:path';
import { UserError } from '../errors.js';

/** Where the run database is: --db, then RUNNER_DB, then runs/runs.sqlite under the current directory. */
export function databasePath(flag: string | undefined): string {
  const given = flag ?? process.env.RUNNER_DB;
  // An empty path would resolve to the current directory.
  if (given === '') throw new UserError(flag === undefined ? 'RUNNER_DB is set but empty: unset it to use runs/runs.sqlite, or set it to a database file' : '--db needs a file path');
  return resolve(given ?? 'runs/runs.sqlite');
}

export function positiveInteger(name: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) throw new UserError(`${name} must be a positive integer, got ${JSON.stringify(text)}`);
    return value;
  };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
