import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunStore } from '../src/store/run-store.js';
import { CLI, runCli, tempDir, writeTemp } from './helpers/cli.js';
import { experimentFile, trialConfig } from './helpers/run-database.js';

/**
 * `runner diff … --fail-on-regression 1 | head` and `runner validate bad.yaml | true`: the reader closes the pipe
 * before the command has written its output. The command's exit code must still reach the shell.
 */
function withClosedStdout(args: string[], cwd: string): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  // Closed before the child has started: its first write to stdout meets EPIPE.
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stderr })));
}

/** main scores 90% on the config, feature 50%: a 40-point regression. */
function regressedDatabase(): string {
  const db = join(tempDir(), 'runs.sqlite');
  const store = new RunStore(db);
  const sweepId = store.startSweep('runner sweep tiny.yaml');
  for (const [id, branch, accuracy] of [['main-run', 'main', 0.9], ['feature-run', 'feature', 0.5]] as const) {
    store.startRun({ id, sweepId, experiment: 'tiny', file: 'tiny.yaml', config: trialConfig, configHash: 'same-config', params: {}, seed: 1, repeatIndex: 0, git: { branch }, backend: 'cpu' });
    store.finishRun(id, { status: 'completed', testAccuracy: accuracy, testLoss: 1, seconds: 1 });
  }
  store.close();
  return db;
}

describe('a closed stdout keeps the exit code', () => {
  it('diff --fail-on-regression still exits 1, in every output format', async () => {
    const db = regressedDatabase();
    const cwd = tempDir();
    expect((await runCli(['diff', 'main', 'feature', '--fail-on-regression', '1', '--db', db], { cwd })).status).toBe(1);
    for (const format of [[], ['--json'], ['--md']]) {
      const result = await withClosedStdout(['diff', 'main', 'feature', '--fail-on-regression', '1', ...format, '--db', db], cwd);
      expect(result.status, `diff ${format.join(' ')}: ${result.stderr}`).toBe(1);
    }
  });

  it('validate of an invalid file still exits 2, and shows its problems on stderr', async () => {
    const dir = tempDir();
    const bad = writeTemp('bad.yaml', 'name: bad\nmodel: 3\n', dir);
    const result = await withClosedStdout(['validate', experimentFile, bad], dir);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('`model` must be a mapping, got 3');
  });

  it('a successful command still exits 0', async () => {
    expect((await withClosedStdout(['validate', experimentFile], tempDir())).status).toBe(0);
  });
});

describe('a backend that cannot run here', () => {
  it('is named once in the message', async () => {
    const result = await runCli(['plan', experimentFile, '--backend', 'webgpu', '--gpu', 'NO-SUCH-GPU'], { cwd: tempDir() });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^backend webgpu is not available \(no adapter's name contains "NO-SUCH-GPU"/m);
    expect(result.stderr).not.toMatch(/backend backend|--backend backend/);
  });
});
