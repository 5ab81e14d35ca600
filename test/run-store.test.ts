import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/store/migrations.js';
import { RunStore, type NewRun } from '../src/store/run-store.js';
import { tempDir } from './helpers/cli.js';

const run = (id: string, hash = 'h1'): NewRun => ({
  id,
  sweepId: 1,
  experiment: 'e',
  file: 'e.yaml',
  config: { train: { seed: 1 } },
  configHash: hash,
  params: { lr: 0.1 },
  seed: 1,
  repeatIndex: 0,
  git: { commit: 'abc', branch: 'main', dirty: false },
  backend: 'wasm',
});

describe('the run database', () => {
  it('creates a versioned schema in WAL mode', () => {
    const path = join(tempDir(), 'runs.sqlite');
    new RunStore(path).close();
    const db = new Database(path);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    expect(() => new RunStore(path).close()).not.toThrow();
  });

  it('records a run, its epochs and its result, and knows it is completed on its branch', () => {
    const store = new RunStore(join(tempDir(), 'runs.sqlite'));
    const sweep = store.startSweep('runner sweep e.yaml');
    store.startRun({ ...run('r1'), sweepId: sweep });
    store.recordEpoch('r1', { epoch: 1, loss: 0.5, accuracy: 0.8, valLoss: 0.6, valAccuracy: 0.78, seconds: 1.5 });
    expect(store.completedHashes('main').size).toBe(0);
    store.finishRun('r1', { status: 'completed', testAccuracy: 0.79, testLoss: 0.61, confusion: [[1, 0], [0, 1]], seconds: 2 });
    expect(store.completedHashes('main')).toEqual(new Set(['h1']));
    expect(store.completedHashes('feature').size).toBe(0);
    const row = store.run('r1')!;
    expect(row).toMatchObject({ status: 'completed', test_accuracy: 0.79, epochs_done: 1, git_branch: 'main' });
    expect(JSON.parse(row.confusion_json!)).toEqual([[1, 0], [0, 1]]);
    expect(store.epochs('r1')).toEqual([{ epoch: 1, loss: 0.5, accuracy: 0.8, valLoss: 0.6, valAccuracy: 0.78, seconds: 1.5 }]);
    store.close();
  });

  it('marks runs left running by a dead process as interrupted', () => {
    const store = new RunStore(join(tempDir(), 'runs.sqlite'));
    store.startSweep('x');
    store.startRun(run('r1'));
    expect(store.recoverAbandoned(() => true)).toBe(0);
    expect(store.recoverAbandoned(() => false)).toBe(1);
    expect(store.run('r1')).toMatchObject({ status: 'interrupted' });
    store.close();
  });

  it('stores a diverged run without pretending its NaN loss is a number', () => {
    const store = new RunStore(join(tempDir(), 'runs.sqlite'));
    store.startSweep('x');
    store.startRun(run('r1'));
    store.recordEpoch('r1', { epoch: 1, loss: Number.NaN, accuracy: 0.1, valLoss: Number.POSITIVE_INFINITY, valAccuracy: 0.1, seconds: 1 });
    store.finishRun('r1', { status: 'diverged', error: 'loss became NaN' });
    expect(store.epochs('r1')[0]).toMatchObject({ loss: null, valLoss: null });
    expect(store.run('r1')).toMatchObject({ status: 'diverged', error: 'loss became NaN' });
    store.close();
  });

  it('finds a run by a unique prefix of its id', () => {
    const store = new RunStore(join(tempDir(), 'runs.sqlite'));
    store.startSweep('x');
    store.startRun(run('abcd-1'));
    store.startRun(run('abef-2'));
    expect(store.run('abc')?.id).toBe('abcd-1');
    expect(store.run('ab')).toBeUndefined();
    store.close();
  });
});
