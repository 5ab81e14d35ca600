/**
 * `node dist/bench/index.js --queue-only`: what the queue costs. The same tiny trial swept alone, several times, by the
 * local pool and through a queue to a warm worker (medians); then an 8-trial sweep with --concurrency 2 locally
 * against two workers on this machine. Needs redis-server; starts its own on a free loopback port.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/package-root.js';
import { tinySweep } from './tiny-sweep.js';
import { freePort } from './free-port.js';

const CLI = join(packageRoot, 'dist', 'src', 'cli.js');
const REPEATS = Number(process.env.BENCH_QUEUE_REPEATS ?? 5);

export async function benchQueue(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'runner-bench-queue-'));
  // Coordinator and workers run in a checkout of their own, so that they agree on the commit whatever HEAD does meanwhile.
  writeFileSync(join(dir, 'one.yaml'), tinySweep('queue-one', 64, 1, [0.001]));
  writeFileSync(join(dir, 'eight.yaml'), tinySweep('queue-eight', 1000, 1, [0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008]));
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', ...args], { cwd: dir, stdio: 'ignore' });
  git('init', '--quiet');
  git('add', '.');
  git('commit', '--quiet', '-m', 'bench');
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const redis = await launch('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], 'Ready to accept connections');
  const workers: ChildProcess[] = [];
  try {
    const sweep = (file: string, db: string, extra: string[]) => {
      const started = performance.now();
      execFileSync(process.execPath, [CLI, 'sweep', file, '--db', join(dir, db), '--backend', 'wasm', '--force', ...extra], { cwd: dir, stdio: 'ignore' });
      return (performance.now() - started) / 1000;
    };
    const startWorker = () => launch(process.execPath, [CLI, 'worker', '--queue', url, '--backend', 'wasm'], 'pulling from', dir).then((w) => workers.push(w));

    await startWorker();
    const local: number[] = [];
    const queued: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      local.push(sweep('one.yaml', 'one-local.sqlite', ['--concurrency', '1']));
      queued.push(sweep('one.yaml', 'one-queue.sqlite', ['--queue', url]));
    }
    const [l, q] = [median(local), median(queued)];
    console.log('## Queue overhead\n');
    console.log(`One tiny trial (64 samples, 1 epoch, wasm) swept alone, median of ${REPEATS}: local pool ${l.toFixed(2)} s, through the queue to a warm worker ${q.toFixed(2)} s → ${(q - l).toFixed(2)} s per trial for the queue.`);

    await startWorker();
    const localEight = sweep('eight.yaml', 'eight-local.sqlite', ['--concurrency', '2']);
    const queuedEight = sweep('eight.yaml', 'eight-queue.sqlite', ['--queue', url]);
    console.log(`8 trials of 1,000 samples: local --concurrency 2 ${localEight.toFixed(1)} s, queue with 2 workers on this machine ${queuedEight.toFixed(1)} s (${(queuedEight / localEight).toFixed(2)}× the local time).`);
  } finally {
    workers.forEach((w) => w.kill('SIGINT'));
    await Promise.all(workers.map(exited));
    redis.kill('SIGTERM');
    await exited(redis);
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Starts a program and resolves once its output contains `ready`. */
function launch(command: string, args: string[], ready: string, cwd?: string): Promise<ChildProcess> {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
  let output = '';
  return new Promise((resolve, reject) => {
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(ready)) resolve(child);
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`${command} exited with ${code} before it was ready:\n${output}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
