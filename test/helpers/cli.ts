import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const CLI = join(ROOT, 'dist', 'src', 'cli.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Below vitest's 120 s test limit, so that a hung CLI fails its test with what it printed rather than a bare timeout. */
const CLI_TIMEOUT_MS = 90_000;
const tail = (text: string) => (text.length > 4000 ? `…${text.slice(-4000)}` : text);

/** Runs the built `runner` the way a user does, in `cwd`; independent calls may run at once. */
export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, FORCE_COLOR: '0', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`runner ${args.join(' ')} was still running after ${CLI_TIMEOUT_MS / 1000} s and was killed.\nstdout: ${tail(stdout)}\nstderr: ${tail(stderr)}`));
    }, CLI_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

const madeDirs: string[] = [];
// Registered when a test file imports this module, so it runs after that file's tests.
afterAll(() => {
  for (const dir of madeDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when the test file that made it is done. */
export function tempDir(prefix = 'runner-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  madeDirs.push(dir);
  return dir;
}

/** Writes a file into a fresh temporary directory and returns its path. */
export function writeTemp(name: string, text: string, dir = tempDir()): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** `runner validate` prints `✗ FILE: N problems` and then that file's problems; one block per invalid file. */
export function blocksByFile(stderr: string): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const block of stderr.split(/^(?=✗ )/m)) {
    const file = /^✗ (.+): \d+ problems?$/m.exec(block)?.[1];
    if (file) blocks.set(file, block);
  }
  return blocks;
}
