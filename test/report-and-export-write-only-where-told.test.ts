import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, runCli, tempDir, type CliResult } from './helpers/cli.js';
import { runDatabase, runId } from './helpers/run-database.js';

/**
 * `report --html FILE` and `export-model RUN DIR` write where they are told and nowhere else: into a directory that
 * exists, never into a run's own folder, whole or not at all, and a path they cannot use is a clear error (exit 2).
 */
function expectRefused(result: Pick<CliResult, 'status' | 'stderr'>, message: string): void {
  expect(result.status, result.stderr).toBe(2);
  expect(result.stderr).toContain(message);
  expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
}

/** Files a write left behind under a temporary name. */
const leftovers = (dir: string) => readdirSync(dir).filter((name) => name.includes('.partial'));

describe('report --html', () => {
  const db = runDatabase(3);
  const html = (target: string) => runCli(['report', '--html', target, '--db', db], { cwd: tempDir() });

  it('refuses a path under a regular file, a directory, and a directory that does not exist, creating nothing', async () => {
    const dir = tempDir();
    const notes = join(dir, 'notes.txt');
    writeFileSync(notes, 'notes');
    expectRefused(await html(join(notes, 'report.html')), `--html ${join(notes, 'report.html')}: ${notes} is not a directory (a file stands in the path)`);
    expectRefused(await html(join(notes, 'deeper', 'report.html')), `${join(notes, 'deeper')} is not a directory`);
    expectRefused(await html(dir), `--html ${dir}: ${dir} is a directory; give a file name, e.g. ${join(dir, 'report.html')}`);
    const missing = join(dir, 'nonexistent', 'dir', 'x.html');
    expectRefused(await html(missing), `--html ${missing}: the directory ${dirname(missing)} does not exist; create it first, or write somewhere else`);
    expect(existsSync(join(dir, 'nonexistent'))).toBe(false);
    expect(readdirSync(dir)).toEqual(['notes.txt']);
  });

  it('replaces an earlier report whole, leaving no temporary file', async () => {
    const dir = tempDir();
    const target = join(dir, 'report.html');
    writeFileSync(target, 'an older report');
    const result = await html(target);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`wrote ${target}: 1 leaderboard entry`);
    expect(readFileSync(target, 'utf8')).toMatch(/^<!doctype html>[\s\S]*<\/html>\s*$/i);
    expect(leftovers(dir)).toEqual([]);
  });

  it('leaves an earlier report as it was when the write fails part way', async () => {
    const dir = tempDir();
    const target = join(dir, 'report.html');
    expect((await html(target)).status).toBe(0);
    expect(statSync(target).size).toBeGreaterThan(1024);
    writeFileSync(target, 'an older report');
    // A rollback-journal database is read without SQLite's shared-memory file, which a file size limit would break.
    const rollback = join(tempDir(), 'runs.sqlite');
    copyFileSync(db, rollback);
    const raw = new Database(rollback);
    raw.pragma('journal_mode = DELETE');
    raw.close();
    // Writes past `ulimit -f` (1 KiB here) fail with EFBIG: Node ignores the signal that would otherwise kill it.
    const result = spawnSync('bash', ['-c', 'ulimit -f 1; exec "$0" "$@"', process.execPath, CLI, 'report', '--html', target, '--db', rollback], { encoding: 'utf8' });
    expectRefused(result, `cannot write ${target}: EFBIG: file too large`);
    expect(readFileSync(target, 'utf8')).toBe('an older report');
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('export-model', () => {
  it('finds its run as show does: an ambiguous prefix is called ambiguous, an unknown one unknown', async () => {
    const db = runDatabase(3);
    const ambiguous = await runCli(['export-model', 'aaaaaaaa', '--db', db], { cwd: tempDir() });
    expectRefused(ambiguous, `run id prefix "aaaaaaaa" is ambiguous: it matches ${runId(1)}, ${runId(2)}, ${runId(3)}; give more characters`);
    expectRefused(await runCli(['export-model', 'zzzz', '--db', db], { cwd: tempDir() }), `no run with id "zzzz" in ${db}`);
  });

  it('refuses the run’s own folder and a directory that does not exist, then copies the model whole', async () => {
    const dir = tempDir();
    const db = runDatabase(1, dir);
    const runFolder = join(dir, 'runs', runId(1));
    const exportTo = (target: string) => runCli(['export-model', runId(1), target, '--db', db], { cwd: dir });
    for (const inside of [join(runFolder, 'model', 'copy'), join(runFolder, 'copy')]) {
      expectRefused(await exportTo(inside), `export-model ${inside}: ${inside} is inside run ${runId(1)}'s own folder ${runFolder}; export somewhere else`);
    }
    // A symbolic link to the run's folder leads into it all the same.
    symlinkSync(runFolder, join(dir, 'link'));
    const throughLink = join(dir, 'link', 'copy');
    expectRefused(await exportTo(throughLink), `export-model ${throughLink}: ${throughLink} is inside run ${runId(1)}'s own folder ${runFolder}; export somewhere else`);
    expect(readdirSync(runFolder)).toEqual(['model']);
    const missing = join(dir, 'nonexistent', 'model');
    expectRefused(await exportTo(missing), `the directory ${dirname(missing)} does not exist`);
    expect(existsSync(dirname(missing))).toBe(false);

    const exportsDir = join(dir, 'exports');
    mkdirSync(exportsDir);
    const target = join(exportsDir, 'tiny');
    const result = await exportTo(target);
    expect(result.status, result.stderr).toBe(0);
    expect(readdirSync(target).sort()).toEqual(['model.json', 'weights.bin']);
    expect(leftovers(exportsDir)).toEqual([]);
    expectRefused(await exportTo(target), `export-model ${target}: ${target} already exists; choose another directory`);
  });
});
