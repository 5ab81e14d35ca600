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
    store.recordEpoch('r1', { epoch: 1, loss: 0.5, accuracy: 0.8, valLoss: 0.6, valAccuracy: 0.78, seconds: 1.5, validationSeconds: 0.4 });
    expect(store.completedHashes('main').size).toBe(0);
    store.finishRun('r1', { status: 'completed', testAccuracy: 0.79, testLoss: 0.61, confusion: [[1, 0], [0, 1]], seconds: 2 });
    expect(store.completedHashes('main')).toEqual(new Set(['h1']));
    expect(store.completedHashes('feature').size).toBe(0);
    const row = store.run('r1')!;
    expect(row).toMatchObject({ status: 'completed', testAccuracy: 0.79, epochsDone: 1, git: { branch: 'main', commit: 'abc', dirty: false }, params: { lr: 0.1 } });
    expect(row.confusion).toEqual([[1, 0], [0, 1]]);
    expect(store.epochs('r1')).toEqual([{ epoch: 1, loss: 0.5, accuracy: 0.8, valLoss: 0.6, valAccuracy: 0.78, seconds: 1.5, validationSeconds: 0.4 }]);
    store.close();
  });

  it('keeps what estimates need: epoch, validation, first-epoch, test and wall seconds of completed runs', () => {
    const store = new RunStore(join(tempDir(), 'runs.sqlite'));
    store.startSweep('x');
    store.startRun(run('r1'));
    store.recordEpoch('r1', { epoch: 1, loss: 0.5, accuracy: 0.8, valLoss: 0.6, valAccuracy: 0.78, seconds: 3, validationSeconds: 1 });
    store.recordEpoch('r1', { epoch: 2, loss: 0.4, accuracy: 0.85, valLoss: 0.5, valAccuracy: 0.8, seconds: 2, validationSeconds: 0.75 });
    store.finishRun('r1', { status: 'completed', testAccuracy: 0.8, testSeconds: 0.5 });
    store.startRun(run('r2', 'h2'));
    store.finishRun('r2', { status: 'failed', error: 'boom' });
    const [timing, ...others] = store.runTimings();
    expect(others).toEqual([]);
    expect(timing).toMatchObject({ configHash: 'h1', experiment: 'e', backend: 'wasm', epochs: 2, epochSeconds: 5, firstEpochSeconds: 3, validationSeconds: 1.75, firstValidationSeconds: 1, testSeconds: 0.5 });
    expect(timing!.config).toEqual({ train: { seed: 1 } });
    // Claim to record, measured by the parent; nothing slept here, so it is short but not negative.
    expect(timing!.wallSeconds).toBeGreaterThanOrEqual(0);
    expect(timing!.wallSeconds).toBeLessThan(5);
    store.close();
  });

  it('upgrades a database of schema 1 in place; its old epochs simply lack validation time', () => {
    const path = join(tempDir(), 'runs.sqlite');
    const old = new Database(path);
    old.exec(MIGRATIONS[0]!);
    old.pragma('user_version = 1');
    old.prepare(`INSERT INTO sweeps (command, started_at, pid, status) VALUES ('x', '2025-01-01T00:00:00.000Z', 1, 'finished')`).run();
    old.prepare(
      `INSERT INTO runs (id, sweep_id, experiment, file, config_json, config_hash, params_json, seed, repeat_index, host, pid, status, started_at, finished_at, epochs_done)
       VALUES ('r0', 1, 'e', 'e.yaml', '{}', 'h0', '{}', 1, 0, 'host', 1, 'completed', '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:10.000Z', 1)`,
    ).run();
    old.prepare(`INSERT INTO epochs (run_id, epoch, loss, accuracy, val_loss, val_accuracy, seconds) VALUES ('r0', 1, 0.5, 0.8, 0.6, 0.78, 8)`).run();
    old.close();
    const store = new RunStore(path);
    expect(store.epochs('r0')).toEqual([{ epoch: 1, loss: 0.5, accuracy: 0.8, valLoss: 0.6, valAccuracy: 0.78, seconds: 8, validationSeconds: null }]);
    expect(store.runTimings()).toEqual([expect.objectContaining({ epochSeconds: 8, validationSeconds: null, testSeconds: null, wallSeconds: expect.closeTo(10, 3) })]);
    store.close();
  });

  it('stores a diverged run without pretending its NaN loss is a number', () => {
    const store = new RunStore(join(tempDir(), 'runs.sqlite'));
    store.startSweep('x');
    store.startRun(run('r1'));
    store.recordEpoch('r1', { epoch: 1, loss: Number.NaN, accuracy: 0.1, valLoss: Number.POSITIVE_INFINITY, valAccuracy: 0.1, seconds: 1, validationSeconds: 0.5 });
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
