import { resolve } from 'node:path';
import { UserError } from '../errors.js';

/** Where the run database is: --db, then RUNNER_DB, then runs/runs.sqlite under the current directory. */
export function databasePath(flag: string | undefined): string {
  return resolve(flag ?? process.env.RUNNER_DB ?? 'runs/runs.sqlite');
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
