import Database from 'better-sqlite3';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadExperiment } from '../src/config/load-experiment.js';
import { runsDirFor } from '../src/store/run-folders.js';
import type { RunStatus } from '../src/run-status.js';
import { RunStore, type RunOutcome } from '../src/store/run-store.js';
import { expandTrials } from '../src/sweep/expand.js';
import { runCli, tempDir, writeTemp } from './helpers/cli.js';
import { tinyExperiment } from './helpers/sweeps.js';

/**
 * tag, note, rm and gc through the built CLI on a real SQLite file whose runs are written through the store,
 * each with a `runs/<run-id>/model/` folder as a sweep leaves it.
 */
const RUNS: [string, RunStatus][] = [
  ['aaaaaaaa-0001', 'completed'],
  ['aaaaaaaa-0002', 'completed'],
  ['bbbbbbbb-0001', 'failed'],
  ['cccccccc-0001', 'diverged'],
  ['dddddddd-0001', 'interrupted'],
  ['eeeeeeee-0001', 'running'],
];
const ORPHAN = 'ffffffff-0001';
const MONTHS_AGO = '2020-01-01T00:00:00.000Z';
/** The running run's runner is alive: it holds a lease for the length of the test. */
const LIVE_LEASE = { owner: 'a-live-runner', seconds: 3600 };

let dir: string;
let db: string;
const cli = (...args: string[]) => runCli([...args, '--db', db], { cwd: dir });
const folder = (id: string) => join(runsDirFor(db), id);
const ids = (listJson: string) => (JSON.parse(listJson) as { id: string }[]).map((run) => run.id).sort();
const [trial] = expandTrials(loadExperiment(writeTemp('tiny.yaml', tinyExperiment('tiny'))));

beforeEach(() => {
  dir = tempDir('runner-housekeeping-');
  db = join(dir, 'runs.sqlite');
  const store = new RunStore(db);
  const sweepId = store.startSweep('runner sweep tiny.yaml');
  for (const [id, status] of RUNS) {
    store.startRun({ id, sweepId, experiment: 'tiny', file: 'tiny.yaml', config: trial!.config, configHash: id.slice(0, 8), params: {}, seed: 1, repeatIndex: 0, git: { branch: 'main' }, backend: 'wasm' }, status === 'running' ? LIVE_LEASE : undefined);
    mkdirSync(join(folder(id), 'model'), { recursive: true });
    writeFileSync(join(folder(id), 'model', 'weights.bin'), Buffer.alloc(4096));
    if (status !== 'running') store.finishRun(id, { status, testAccuracy: status === 'completed' ? 0.8 : undefined } as RunOutcome);
  }
  store.close();
  mkdirSync(join(folder(ORPHAN), 'model'), { recursive: true });
  writeFileSync(join(folder(ORPHAN), 'model', 'weights.bin'), Buffer.alloc(8192));
  mkdirSync(folder('not-a-run'));
  // The failed run is old; everything else started just now.
  const raw = new Database(db);
  raw.prepare(`UPDATE runs SET started_at = ? WHERE id = 'bbbbbbbb-0001'`).run(MONTHS_AGO);
  raw.close();
});

describe('runner tag and runner note', () => {
  it('label a run, and list, report and show filter on and print the labels', async () => {
    expect((await cli('tag', 'aaaaaaaa-0001', 'reviewed=yes', 'baseline=true')).status).toBe(0);
    expect((await cli('tag', 'aaaaaaaa-0002', 'reviewed=no')).status).toBe(0);
    expect((await cli('note', 'aaaaaaaa-0001', 'the baseline for the dropout sweep')).status).toBe(0);

    expect(ids((await cli('list', '--tag', 'reviewed=yes', '--json')).stdout)).toEqual(['aaaaaaaa-0001']);
    expect(ids((await cli('list', '--tag', 'reviewed=yes', '--tag', 'baseline=false', '--json')).stdout)).toEqual([]);
    const [listed] = JSON.parse((await cli('list', '--tag', 'baseline=true', '--json')).stdout) as { tags: unknown; note: unknown }[];
    expect(listed).toMatchObject({ tags: { reviewed: 'yes', baseline: 'true' }, note: 'the baseline for the dropout sweep' });

    const board = JSON.parse((await cli('report', '--tag', 'reviewed=no', '--json')).stdout) as { entries: { runIds: string[] }[] };
    expect(board.entries.flatMap((entry) => entry.runIds)).toEqual(['aaaaaaaa-0002']);

    const shown = await cli('show', 'aaaaaaaa-0001');
    expect(shown.stdout).toContain('reviewed=yes');
    expect(shown.stdout).toContain('the baseline for the dropout sweep');
    expect(JSON.parse((await cli('show', 'aaaaaaaa-0001', '--json')).stdout)).toMatchObject({ tags: { reviewed: 'yes', baseline: 'true' }, note: 'the baseline for the dropout sweep' });

    // Overwrite one tag, remove another, clear the note.
    expect((await cli('tag', 'aaaaaaaa-0001', 'reviewed=twice', '--remove', 'baseline')).stdout).toContain('aaaaaaaa-0001: reviewed=twice');
    expect((await cli('note', 'aaaaaaaa-0001', '--clear')).status).toBe(0);
    expect(JSON.parse((await cli('show', 'aaaaaaaa-0001', '--json')).stdout)).toMatchObject({ tags: { reviewed: 'twice' }, note: null });
  });

  it('refuse malformed tags, empty notes and unknown runs with exit 2 and a clear message', async () => {
    for (const [args, message] of [
      [['tag', 'aaaaaaaa-0001', 'reviewed'], 'expected key=value'],
      [['tag', 'aaaaaaaa-0001', '1st=yes'], 'a tag name starts with a letter'],
      [['tag', 'aaaaaaaa-0001'], 'nothing to do'],
      [['tag', 'zzz', 'a=b'], 'no run with id "zzz"'],
      [['tag', 'aaaaaaaa', 'a=b'], 'is ambiguous'],
      // `%` and `_` are characters of an id here, not wildcards, and an empty id names no run.
      [['tag', '%', 'a=b'], 'no run with id "%"'],
      [['tag', 'aaaaaaaa_0001', 'a=b'], 'no run with id "aaaaaaaa_0001"'],
      [['tag', '', 'a=b'], 'an empty run id matches every run'],
      [['rm', '%_', '--yes'], 'no run with id "%_"'],
      [['note', 'aaaaaaaa-0001', '  '], 'the note is empty'],
      [['list', '--tag', 'reviewed'], 'expected key=value'],
    ] as const) {
      const result = await cli(...args);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe('runner rm', () => {
  it('asks before removing; without a terminal it needs --yes and removes nothing', async () => {
    const refused = await cli('rm', 'aaaaaaaa-0001');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('pass --yes');
    expect(existsSync(folder('aaaaaaaa-0001'))).toBe(true);
    expect(ids((await cli('list', '--json')).stdout)).toContain('aaaaaaaa-0001');
  });

  it('removes the runs, their epochs and tags, and their folders; other runs stay', async () => {
    await cli('tag', 'aaaaaaaa-0001', 'reviewed=yes');
    const removed = await cli('rm', 'aaaaaaaa-0001', 'cccc', '--yes');
    expect(removed.status).toBe(0);
    expect(removed.stdout).toContain('Removed 2 runs, freeing 8.19 kB');
    expect(existsSync(folder('aaaaaaaa-0001'))).toBe(false);
    expect(existsSync(folder('cccccccc-0001'))).toBe(false);
    expect(existsSync(folder('aaaaaaaa-0002'))).toBe(true);
    expect(ids((await cli('list', '--json')).stdout)).toEqual(RUNS.map(([id]) => id).filter((id) => id !== 'aaaaaaaa-0001' && id !== 'cccccccc-0001'));
    const raw = new Database(db, { readonly: true });
    expect(raw.prepare(`SELECT COUNT(*) AS n FROM run_tags`).get()).toEqual({ n: 0 });
    raw.close();
  });

  it('removes nothing when one reference is wrong or a run is still training', async () => {
    const typo = await cli('rm', 'aaaaaaaa-0001', 'nope', '--yes');
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain('no run with id "nope"');
    const training = await cli('rm', 'aaaaaaaa-0001', 'eeeeeeee-0001', '--yes');
    expect(training.status).toBe(2);
    expect(training.stderr).toContain('eeeeeeee-0001 is still training');
    expect(ids((await cli('list', '--json')).stdout)).toHaveLength(RUNS.length);
    expect(existsSync(folder('aaaaaaaa-0001'))).toBe(true);
  });
});

describe('runner rm and gc on a run whose runner died', () => {
  it('reclaim a running row whose lease lapsed, then remove it like any interrupted run', async () => {
    const raw = new Database(db);
    raw.prepare(`UPDATE runs SET lease_expires_at = ? WHERE id = 'eeeeeeee-0001'`).run(MONTHS_AGO);
    raw.close();
    const removed = await cli('rm', 'eeeeeeee-0001', '--yes');
    expect(removed.status, removed.stderr).toBe(0);
    expect(ids((await cli('list', '--json')).stdout)).not.toContain('eeeeeeee-0001');
    expect(existsSync(folder('eeeeeeee-0001'))).toBe(false);
  });
});

describe('runner gc', () => {
  it('--dry-run lists failed, diverged and interrupted runs and orphaned folders, and removes nothing', async () => {
    const dry = await cli('gc', '--dry-run');
    expect(dry.status).toBe(0);
    for (const id of ['bbbbbbbb-0001', 'cccccccc-0001', 'dddddddd-0001', ORPHAN]) expect(dry.stdout).toContain(id);
    for (const id of ['aaaaaaaa-0001', 'aaaaaaaa-0002', 'eeeeeeee-0001']) expect(dry.stdout).not.toContain(id);
    expect(dry.stdout).toContain('Would remove 3 runs and 1 orphaned folder');
    expect(ids((await cli('list', '--json')).stdout)).toHaveLength(RUNS.length);
    expect(existsSync(folder(ORPHAN))).toBe(true);
  });

  it('--older-than removes only the unfinished runs started before that age', async () => {
    const old = await cli('gc', '--older-than', '30d');
    expect(old.status).toBe(0);
    expect(old.stdout).toContain('Removed 1 run, freeing 4.1 kB');
    expect(ids((await cli('list', '--json')).stdout)).not.toContain('bbbbbbbb-0001');
    expect(ids((await cli('list', '--json')).stdout)).toContain('cccccccc-0001');
    for (const age of ['soon', '30', '400000y']) {
      const refused = await cli('gc', '--older-than', age);
      expect(refused.status, age).toBe(2);
      expect(refused.stderr).toContain(`--older-than ${age}: expected an age such as 30d`);
    }
  });

  it('keeps folders it does not know when another database shares the runs folder, since they may be that one\'s', async () => {
    const other = join(dir, 'other.sqlite');
    new RunStore(other).close();
    const gc = await cli('gc');
    expect(gc.status).toBe(0);
    expect(gc.stdout).toContain(`Kept 1 folder in ${runsDirFor(db)} that this database does not know: ${other} shares that folder and may own them.`);
    expect(existsSync(folder(ORPHAN))).toBe(true);
  });

  it('removes unfinished runs and orphaned folders and prints what it freed; completed and training runs and other folders stay', async () => {
    const gc = await cli('gc');
    expect(gc.status).toBe(0);
    expect(gc.stdout).toContain('Removed 3 runs, freeing 12.3 kB');
    expect(gc.stdout).toContain('Removed 1 orphaned folder, freeing 8.19 kB');
    expect(ids((await cli('list', '--json')).stdout)).toEqual(['aaaaaaaa-0001', 'aaaaaaaa-0002', 'eeeeeeee-0001']);
    for (const id of ['bbbbbbbb-0001', 'cccccccc-0001', 'dddddddd-0001', ORPHAN]) expect(existsSync(folder(id))).toBe(false);
    for (const id of ['aaaaaaaa-0001', 'aaaaaaaa-0002', 'eeeeeeee-0001']) expect(existsSync(folder(id))).toBe(true);
    expect(existsSync(folder('not-a-run'))).toBe(true);
    expect((await cli('gc')).stdout).toContain('Nothing to remove');
  });
});
