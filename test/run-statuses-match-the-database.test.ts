import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { RUN_STATUSES } from '../src/run-status.js';
import { RunStore } from '../src/store/run-store.js';

// Released migrations are never edited, so the CHECK constraint on runs.status cannot be built from RUN_STATUSES:
// this holds the two together. A new status needs a migration that rebuilds the table with it.
it('the database accepts exactly the run statuses the code knows', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'run-statuses-')), 'runs.sqlite');
  new RunStore(file).close();
  const db = new Database(file, { readonly: true });
  try {
    const { sql } = db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'runs'`).get() as { sql: string };
    const allowed = /status TEXT NOT NULL CHECK \(status IN \(([^)]*)\)\)/.exec(sql)?.[1];
    expect(allowed, sql).toBeDefined();
    expect(allowed!.split(',').map((value) => value.trim().replace(/^'|'$/g, '')).sort()).toEqual([...RUN_STATUSES].sort());
  } finally {
    db.close();
  }
});
