import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/store/migrations.js';
import { RunStore, type Lease, type NewRun } from '../src/store/run-store.js';
import { tempDir } from './helpers/cli.js';

/**
 * Leases on a real SQLite file, with two stores standing for two runner processes: whether a running row is taken
 * depends on its lease alone, never on the host name or pid it records.
 */
const trial = (id: string, hash = 'h1'): NewRun => ({
  id,
  sweepId: 1,
  experiment: 'e',
  file: 'e.yaml',
  config: { train: { seed: 1 } },
  configHash: hash,
  params: {},
  seed: 1,
  repeatIndex: 0,
  git: { branch: 'main' },
  backend: 'wasm',
});
const A: Lease = { owner: 'runner-a', seconds: 30 };
const B: Lease = { owner: 'runner-b', seconds: 30 };

/** Changes rows behind the stores' backs, as another machine or a hand-edit would. */
function edit(path: string, sql: string): void {
  const db = new Database(path);
  db.exec(sql);
  db.close();
}

function twoRunners(): { path: string; a: RunStore; b: RunStore } {
  const path = join(tempDir(), 'runs.sqlite');
  const a = new RunStore(path);
  const b = new RunStore(path);
  a.startSweep('runner sweep e.yaml', A);
  return { path, a, b };
}

describe('leases on running trials', () => {
  it('a live lease keeps a trial from another runner, even when its row names this host and a dead pid', () => {
    const { path, a, b } = twoRunners();
    expect(a.claimRun(trial('a1'), { force: false, lease: A })).toEqual({ outcome: 'claimed', runId: 'a1', reclaimed: [] });
    // What two containers sharing a volume look like to each other: same host name, a pid that is not running here.
    edit(path, `UPDATE runs SET pid = 2147483646`);
    expect(b.claimRun(trial('b1'), { force: true, lease: B })).toEqual({ outcome: 'running-elsewhere', runId: 'b1', reclaimed: [] });
    expect(b.leasedHashes('main')).toEqual(new Set(['h1']));
    expect(b.runs().map((r) => [r.id, r.status, r.stale])).toEqual([['a1', 'running', false]]);
    a.close();
    b.close();
  });

  it('a lapsed lease is reclaimed in the claim, whatever host it names: the run becomes interrupted and the new runner continues it', () => {
    const { path, a, b } = twoRunners();
    a.claimRun(trial('a1'), { force: false, lease: A });
    edit(path, `UPDATE runs SET host = 'elsewhere', lease_expires_at = '2020-01-01T00:00:00.000Z'; UPDATE sweeps SET lease_expires_at = '2020-01-01T00:00:00.000Z'`);
    expect(b.runs()[0]).toMatchObject({ status: 'running', stale: true, leaseExpiresAt: '2020-01-01T00:00:00.000Z' });
    expect(b.claimRun(trial('b1'), { force: false, lease: B })).toEqual({ outcome: 'continued', runId: 'a1', reclaimed: ['a1'], epochsDone: 0 });
    expect(b.run('b1')).toBeUndefined();
    expect(b.run('a1')).toMatchObject({ status: 'running', stale: false, attempts: 2, host: hostname() });
    // The runner that lost its lease learns it when it tries to record the end: nothing of it is written.
    expect(a.finishRun('a1', { status: 'completed', testAccuracy: 0.9 }, A)).toBe(false);
    a.recordEpoch('a1', { epoch: 1, loss: 1, accuracy: 0.5, valLoss: 1, valAccuracy: 0.5, seconds: 1, validationSeconds: 0.1 }, A);
    expect(b.run('a1')).toMatchObject({ status: 'running', testAccuracy: null, epochsDone: 0 });
    expect(b.epochs('a1')).toEqual([]);
    expect(b.finishRun('a1', { status: 'completed', testAccuracy: 0.9 }, B)).toBe(true);
    a.close();
    b.close();
  });

  it('renewing a lease pushes back its expiry, for the runner\'s running trials and sweep only', () => {
    const { path, a, b } = twoRunners();
    a.claimRun(trial('a1', 'h1'), { force: false, lease: A });
    a.claimRun(trial('a2', 'h2'), { force: false, lease: A });
    a.finishRun('a2', { status: 'completed' });
    b.claimRun(trial('b1', 'h3'), { force: false, lease: B });
    edit(path, `UPDATE runs SET lease_expires_at = '2020-01-01T00:00:00.000Z'; UPDATE sweeps SET lease_expires_at = '2020-01-01T00:00:00.000Z'`);
    a.renewLease(A);
    const expiries = new Database(path, { readonly: true });
    const rows = expiries.prepare(`SELECT id, lease_expires_at > ? AS live FROM runs ORDER BY id`).all(new Date().toISOString());
    const sweeps = expiries.prepare(`SELECT lease_expires_at > ? AS live FROM sweeps`).all(new Date().toISOString());
    expiries.close();
    expect(rows).toEqual([
      { id: 'a1', live: 1 },
      { id: 'a2', live: 0 },
      { id: 'b1', live: 0 },
    ]);
    expect(sweeps).toEqual([{ live: 1 }]);
    expect(a.reclaimLapsed()).toEqual(['b1']);
    a.close();
    b.close();
  });

  it('a completed trial is skipped unless forced; a forced claim still leaves a live lease alone', () => {
    const { a, b } = twoRunners();
    a.claimRun(trial('a1'), { force: false, lease: A });
    a.finishRun('a1', { status: 'completed' });
    expect(b.claimRun(trial('b1'), { force: false, lease: B }).outcome).toBe('completed');
    expect(b.claimRun(trial('b1'), { force: true, lease: B }).outcome).toBe('claimed');
    expect(a.claimRun(trial('a2'), { force: true, lease: A }).outcome).toBe('running-elsewhere');
    a.close();
    b.close();
  });

  it('rows left running by a runner older than leases count as lapsed once the database is upgraded', () => {
    const path = join(tempDir(), 'runs.sqlite');
    const old = new Database(path);
    MIGRATIONS.slice(0, 4).forEach((sql) => old.exec(sql));
    old.pragma('user_version = 4');
    old.prepare(`INSERT INTO sweeps (command, started_at, pid, status) VALUES ('x', '2025-01-01T00:00:00.000Z', ?, 'running')`).run(process.pid);
    old.prepare(
      `INSERT INTO runs (id, sweep_id, experiment, file, config_json, config_hash, params_json, seed, repeat_index, git_branch, host, pid, status, started_at)
       VALUES ('old-1', 1, 'e', 'e.yaml', '{}', 'h1', '{}', 1, 0, 'main', 'host', ?, 'running', '2025-01-01T00:00:00.000Z')`,
    ).run(process.pid);
    old.close();
    const store = new RunStore(path);
    expect(store.run('old-1')).toMatchObject({ status: 'running', stale: true, leaseExpiresAt: null });
    // Reclaimed as interrupted, then continued by the claim: the trial stays one run.
    expect(store.claimRun(trial('new-1'), { force: false, lease: A })).toEqual({ outcome: 'continued', runId: 'old-1', reclaimed: ['old-1'], epochsDone: 0 });
    expect(store.run('old-1')).toMatchObject({ status: 'running', attempts: 2 });
    store.close();
    const sweeps = new Database(path, { readonly: true });
    expect(sweeps.prepare(`SELECT status FROM sweeps WHERE id = 1`).get()).toEqual({ status: 'interrupted' });
    sweeps.close();
  });
});
