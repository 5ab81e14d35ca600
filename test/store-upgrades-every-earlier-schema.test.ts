import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/store/migrations.js';
import { runCli, tempDir } from './helpers/cli.js';

/** A database as each earlier release of the runner left it, holding one completed run from the first schema's columns. */
function databaseAtSchema(version: number): string {
  const path = join(tempDir('runner-schema-'), 'runs.sqlite');
  const old = new Database(path);
  MIGRATIONS.slice(0, version).forEach((sql) => old.exec(sql));
  old.pragma(`user_version = ${version}`);
  if (version > 0) {
    old.prepare(`INSERT INTO sweeps (command, started_at, pid, status) VALUES ('runner sweep e.yaml', '2025-01-01T00:00:00.000Z', 1, 'finished')`).run();
    old.prepare(
      `INSERT INTO runs (id, sweep_id, experiment, file, config_json, config_hash, params_json, seed, repeat_index, git_branch, host, pid, status, started_at, finished_at, epochs_done, test_accuracy)
       VALUES ('abcdef12-0001', 1, 'e', 'e.yaml', '{"train":{"seed":1}}', 'abcdef12', '{"train.optimizer.learningRate":0.01}', 1, 0, 'main', 'host', 1, 'completed', '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:10.000Z', 1, 0.8)`,
    ).run();
  }
  old.close();
  return path;
}

describe('a database from every earlier schema version', () => {
  for (let version = 0; version < MIGRATIONS.length; version++) {
    it(`upgrades in place from schema ${version}, keeps its runs, and takes tags and notes`, async () => {
      const db = databaseAtSchema(version);
      const cli = (...args: string[]) => runCli([...args, '--db', db]);
      if (version === 0) {
        expect(JSON.parse((await cli('list', '--json')).stdout)).toEqual([]);
        // list only reads, from an upgraded copy in memory; a command that writes upgrades the file.
        expect((await cli('gc', '--dry-run')).status).toBe(0);
      } else {
        expect((await cli('tag', 'abcdef12', 'reviewed=yes')).status).toBe(0);
        expect((await cli('note', 'abcdef12', 'from an old database')).status).toBe(0);
        const [run] = JSON.parse((await cli('list', '--json', '--tag', 'reviewed=yes')).stdout) as Record<string, unknown>[];
        expect(run).toMatchObject({ id: 'abcdef12-0001', testAccuracy: 0.8, params: { 'train.optimizer.learningRate': 0.01 }, tags: { reviewed: 'yes' }, note: 'from an old database' });
      }
      const upgraded = new Database(db, { readonly: true });
      expect(upgraded.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      upgraded.close();
    });
  }
});
