import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/store/migrations.js';
import type { Run } from '../src/store/run-store.js';
import { CLI, runCli, tempDir, writeTemp, type CliResult } from './helpers/cli.js';
import { experimentFile, runDatabase, runId, trialConfig } from './helpers/run-database.js';

/**
 * The run database as a user may hand it over: not SQLite, cut short, damaged, from a newer runner, a directory,
 * an empty RUNNER_DB, a read-only file in a read-only directory, an older schema. Every command either reads it
 * without writing a byte, or says in one line what is wrong with which file (exit 2, no stack trace).
 */
const RUN_COUNT = 40;

function truncated(): string {
  const db = runDatabase(RUN_COUNT);
  const bytes = readFileSync(db);
  writeFileSync(db, bytes.subarray(0, bytes.length / 2));
  return db;
}

/** The runs table's root page overwritten, as a bad sector or a stray write would leave it. */
function damaged(): string {
  const db = runDatabase(RUN_COUNT);
  const raw = new Database(db, { readonly: true });
  const { rootpage } = raw.prepare(`SELECT rootpage FROM sqlite_master WHERE name = 'runs'`).get() as { rootpage: number };
  const pageSize = raw.pragma('page_size', { simple: true }) as number;
  raw.close();
  const bytes = readFileSync(db);
  bytes.fill(0x5a, (rootpage - 1) * pageSize, rootpage * pageSize);
  writeFileSync(db, bytes);
  return db;
}

function fromNewerRunner(): string {
  const db = runDatabase(RUN_COUNT);
  const raw = new Database(db);
  raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
  raw.close();
  return db;
}

function notSqlite(): string {
  return writeTemp('runs.sqlite', 'id,accuracy\n'.repeat(200));
}

const READERS = [['list'], ['report'], ['show', 'aaaaaaaa-0001'], ['compare', 'aaaaaaaa-0001', 'aaaaaaaa-0002'], ['diff', 'main', 'feature'], ['export-model', 'aaaaaaaa-0001']];
const WRITERS = [['tag', 'aaaaaaaa-0001', 'reviewed=yes'], ['note', 'aaaaaaaa-0001', 'text'], ['rm', 'aaaaaaaa-0001', '--yes'], ['gc', '--dry-run'], ['plan', experimentFile]];

function expectClearError(result: CliResult, message: RegExp | string, what: string): void {
  expect(result.status, `${what}: ${result.stderr}`).toBe(2);
  expect(result.stderr, what).toMatch(message);
  expect(result.stderr, what).not.toMatch(/internal error|\n\s+at /);
}

describe('every command explains a database it cannot use', () => {
  const cases: [string, () => { db?: string; env?: Record<string, string> }, RegExp][] = [
    ['a file that is not SQLite', () => ({ db: notSqlite() }), /runs\.sqlite is not an SQLite database \(file is not a database\): point --db or RUNNER_DB at a run database file/],
    ['a truncated database', () => ({ db: truncated() }), /runs\.sqlite is damaged \(.*\): move it away and start a new database, or restore a copy; `sqlite3 .*runs\.sqlite \.recover` may save what is left of it/],
    ['a damaged database', () => ({ db: damaged() }), /runs\.sqlite is damaged \(/],
    ['a newer runner’s database', () => ({ db: fromNewerRunner() }), new RegExp(`runs\\.sqlite was written by a newer runner \\(database schema ${MIGRATIONS.length + 1}; this runner knows schema ${MIGRATIONS.length} and older\\): use that runner`)],
    ['RUNNER_DB set to a directory', () => ({ env: { RUNNER_DB: tempDir() } }), /is a directory, not a run database: point --db or RUNNER_DB at a run database file, e\.g\. .*runs\.sqlite/],
    ['RUNNER_DB set to the empty string', () => ({ env: { RUNNER_DB: '' } }), /RUNNER_DB is set but empty: unset it to use runs\/runs\.sqlite, or set it to a database file/],
  ];

  for (const [what, make, message] of cases) {
    it(`${what}: exit 2 with the file named, no stack trace`, async () => {
      const { db, env } = make();
      const bytes = db ? readFileSync(db) : undefined;
      // All at once: each command is a process of its own that spends most of its time starting Node.
      const commands = [...READERS, ...WRITERS];
      const results = await Promise.all(commands.map((command) => runCli(db ? [...command, '--db', db] : command, { cwd: tempDir(), env })));
      results.forEach((result, i) => expectClearError(result, message, `${what}, runner ${commands[i]![0]}`));
      // Nothing tried to repair, migrate or overwrite the file.
      if (db) expect(readFileSync(db).equals(bytes!)).toBe(true);
    });
  }

  it('doctor reports a damaged database as damaged, from SQLite’s own check, and exits 2; a sound one as checked', async () => {
    const [bad, good] = await Promise.all([runCli(['doctor', '--db', damaged()]), runCli(['doctor', '--db', runDatabase(RUN_COUNT)])]);
    expect(bad.status).toBe(2);
    expect(bad.stdout).toMatch(/✗ .*runs\.sqlite is damaged/);
    expect(bad.stdout).not.toMatch(/✓ .*runs\.sqlite/);
    expect(good.status).toBe(0);
    expect(good.stdout).toContain(`✓ `);
    expect(good.stdout).toMatch(/runs\.sqlite: 40 runs in 1 sweep, structure checked/);
  });
});

describe('reading commands open the database read-only', () => {
  /** Schema 1 as the first runner wrote it (rollback journal, no WAL), with one completed run. */
  function schemaOneDatabase(): string {
    const db = join(tempDir('runner-old-db-'), 'runs.sqlite');
    const raw = new Database(db);
    raw.exec(MIGRATIONS[0]!);
    raw.pragma('user_version = 1');
    raw.prepare(`INSERT INTO sweeps (id, command, started_at, pid, status) VALUES (1, 'runner sweep tiny.yaml', '2024-01-01T00:00:00.000Z', 1, 'finished')`).run();
    for (const id of [runId(1), runId(2)]) {
      raw
        .prepare(
          `INSERT INTO runs (id, sweep_id, experiment, file, config_json, config_hash, params_json, seed, repeat_index, git_branch, host, pid, status, started_at, finished_at, test_accuracy, test_loss, epochs_done)
           VALUES (?, 1, 'tiny', 'tiny.yaml', ?, ?, '{}', 1, 0, 'main', 'old-host', 1, 'completed', '2024-01-01T00:00:00.000Z', '2024-01-01T00:01:00.000Z', 0.81, 0.5, 0)`,
        )
        .run(id, JSON.stringify(trialConfig), id);
    }
    raw.close();
    return db;
  }

  /** Everything in the database's directory: file names with their bytes and modification times. */
  const snapshot = (db: string) =>
    readdirSync(dirname(db))
      .filter((name) => name.startsWith('runs.sqlite'))
      .map((name) => ({ name, bytes: readFileSync(join(dirname(db), name)).toString('base64'), mtime: statSync(join(dirname(db), name)).mtimeMs }));

  it('reads an older schema as it is: no migration, no switch to WAL, not a byte written', async () => {
    const db = schemaOneDatabase();
    const before = snapshot(db);
    const cli = (...args: string[]) => runCli([...args, '--db', db], { cwd: tempDir() });
    const listed = await cli('list', '--json');
    expect(listed.status, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as Run[]).map((r) => [r.id, r.testAccuracy, r.tags, r.note])).toEqual([
      [runId(1), 0.81, {}, null],
      [runId(2), 0.81, {}, null],
    ]);
    for (const command of [['report'], ['show', runId(1)], ['compare', runId(1), runId(2)]]) {
      const result = await cli(...command);
      expect(result.status, `${command[0]}: ${result.stderr}`).toBe(0);
    }
    expect(snapshot(db)).toEqual(before);
    const raw = new Database(db, { readonly: true });
    expect([raw.pragma('user_version', { simple: true }), raw.pragma('journal_mode', { simple: true })]).toEqual([1, 'delete']);
    raw.close();
  });

  it('lists a read-only database in a read-only directory for a user who may write neither', () => {
    const dir = tempDir('runner-read-only-');
    const db = runDatabase(RUN_COUNT, dir);
    chmodSync(db, 0o444);
    chmodSync(join(dir, 'runs'), 0o555);
    chmodSync(dir, 0o555);
    const before = snapshot(db);
    // Root writes wherever it likes, so as root the command runs as nobody, for whom the permissions hold.
    const asUser = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    const run = (...args: string[]) => {
      const [command, ...rest] = [...asUser, process.execPath, CLI, ...args, '--db', db];
      return spawnSync(command!, rest, { cwd: '/', encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', HOME: '/nonexistent' } });
    };
    const listed = run('list', '--json');
    expect(listed.status, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as Run[]).length).toBe(RUN_COUNT);
    const shown = run('show', runId(3));
    expect(shown.status, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`Run ${runId(3)}`);
    expect(snapshot(db)).toEqual(before);
    chmodSync(dir, 0o755);
  });

  it('leaves a database another runner may be writing as it was, however many readers come and go', async () => {
    const db = runDatabase(RUN_COUNT);
    const copy = join(tempDir(), 'before.sqlite');
    copyFileSync(db, copy);
    await Promise.all(READERS.filter(([name]) => name !== 'export-model').map((command) => runCli([...command, '--db', db], { cwd: tempDir() })));
    expect(readFileSync(db).equals(readFileSync(copy))).toBe(true);
    // A reader may create SQLite's shared lock files beside a WAL database, but never writes a page into its log.
    if (existsSync(`${db}-wal`)) expect(statSync(`${db}-wal`).size).toBe(0);
  });
});
