import Database from 'better-sqlite3';

/** What each family of SQLite result codes means for someone whose sweep it stopped. */
const CAUSES: [code: string, cause: string][] = [
  ['SQLITE_FULL', 'the disk is full, or the database reached a size limit'],
  ['SQLITE_BUSY', 'another program held a write lock on the database for longer than the runner waits for one (15 s)'],
  ['SQLITE_LOCKED', 'another connection held a lock on the database'],
  ['SQLITE_READONLY', 'the database can no longer be written'],
  // A write past a file size limit (ulimit -f) fails with EFBIG, which SQLite reports as a write error, not as full.
  ['SQLITE_IOERR_WRITE', 'the disk refused a write: it is full, the file reached a size limit (ulimit -f), or the disk is failing'],
  ['SQLITE_IOERR', 'the disk failed to read or write the database'],
  ['SQLITE_CORRUPT', 'the database file is damaged'],
];

/**
 * SQLite refusing a statement, said so that a user can act on it: `database or disk is full (SQLITE_FULL): the disk
 * is full, …`. Undefined for any other error, which is the runner's own bug and not the database's fault.
 */
export function databaseFailure(error: unknown): string | undefined {
  if (!(error instanceof Database.SqliteError)) return undefined;
  const cause = CAUSES.find(([code]) => error.code.startsWith(code))?.[1];
  return `${error.message} (${error.code})${cause ? `: ${cause}` : ''}`;
}
