import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/store/migrations.js';
import { RunStore, type NewRun } from '../src/store/run-store.js';
import { tempDir } from './helpers/cli.js';

const run: NewRun = {
  id: 'r1',
  sweepId: 1,
  experiment: 'e',
  file: 'e.yaml',
  config: { train: { seed: 1 } },
  configHash: 'h1',
  params: {},
  seed: 1,
  repeatIndex: 0,
  git: { branch: 'main' },
  backend: 'wasm',
};

function databaseWithOneRun(): string {
  const path = join(tempDir(), 'runs.sqlite');
  const store = new RunStore(path);
  store.startRun({ ...run, sweepId: store.startSweep('runner sweep e.yaml') });
  store.close();
  return path;
}

describe('the run database opened read-only (runner ui)', () => {
  it('reads runs, and SQLite refuses every write on that connection', () => {
    const path = databaseWithOneRun();
    const reader = new RunStore(path, { readonly: true });
    expect(reader.runs().map((r) => r.id)).toEqual(['r1']);
    expect(() => reader.tagRun('r1', { reviewed: 'yes' })).toThrow(/readonly/);
    expect(() => reader.noteRun('r1', 'x')).toThrow(/readonly/);
    reader.close();
  });

  it('sees what a writer commits after it opened, and its data version moves with each commit', () => {
    const path = databaseWithOneRun();
    const reader = new RunStore(path, { readonly: true });
    const writer = new RunStore(path);
    const before = reader.dataVersion();
    expect(reader.dataVersion()).toBe(before);
    writer.recordEpoch('r1', { epoch: 1, loss: 1, accuracy: 0.5, valLoss: 1, valAccuracy: 0.5, seconds: 1, validationSeconds: 0.1 });
    expect(reader.dataVersion()).not.toBe(before);
    expect(reader.epochs('r1')).toHaveLength(1);
    writer.close();
    reader.close();
  });

  it('reads a database of an older schema through an upgraded in-memory copy, leaving the file as it was', () => {
    const path = join(tempDir(), 'old.sqlite');
    const db = new Database(path);
    db.exec(MIGRATIONS[0]!);
    db.pragma('user_version = 1');
    db.close();
    const reader = new RunStore(path, { readonly: true });
    expect(reader.runs()).toEqual([]);
    expect(() => reader.noteRun('r1', 'x')).toThrow(/readonly/);
    reader.close();
    const untouched = new Database(path, { readonly: true });
    expect(untouched.pragma('user_version', { simple: true })).toBe(1);
    untouched.close();
  });

  it('refuses a database of a newer runner, and a missing file without creating it', () => {
    const path = join(tempDir(), 'new.sqlite');
    const db = new Database(path);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => new RunStore(path, { readonly: true })).toThrow(/was written by a newer runner .*: use that runner/);
    const missing = join(tempDir(), 'missing.sqlite');
    expect(() => new RunStore(missing, { readonly: true })).toThrow();
    expect(existsSync(missing)).toBe(false);
  });
});
