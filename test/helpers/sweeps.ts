import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CLI, ROOT } from './cli.js';

/** A tiny real experiment: a small CNN on a slice of the real dataset, a second or two per trial. */
export function tinyExperiment(name: string, extra = '', train = 'epochs: 2'): string {
  return `name: ${name}
data: { trainLimit: 600, testLimit: 300 }
model:
  layers:
    - { type: conv2d, filters: 4, kernelSize: 3, padding: same, activation: relu }
    - { type: maxPooling2d, poolSize: 2 }
    - { type: flatten }
    - { type: dense, units: 10, activation: softmax }
train: { ${train}, batchSize: 50, seed: 3 }
${extra}`;
}

export interface RunningCli {
  child: ChildProcess;
  done: Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Starts the built CLI without waiting for it, for tests that signal or kill it mid-sweep. */
export function startCli(args: string[], cwd = ROOT): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => (stderr += c));
  const done = new Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (status, signal) => resolve({ status, signal, stdout, stderr })),
  );
  return { child, done };
}

/** Rows of a query against the run database (read-only, while a sweep may be writing). */
export function query<T>(dbPath: string, sql: string, ...args: unknown[]): T[] {
  if (!existsSync(dbPath)) return [];
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...args) as T[];
  } catch {
    return [];
  } finally {
    db.close();
  }
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
