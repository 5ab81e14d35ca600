import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { tempDir } from './cli.js';
import { startCli } from './sweeps.js';
import { freePort } from '../../bench/free-port.js';

export interface RunningRedis {
  url: string;
  port: number;
  /** Stops it (SIGTERM: an append-only file is flushed) and starts it again on the same port and folder. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const started: RunningRedis[] = [];
afterAll(async () => {
  await Promise.all(started.splice(0).map((redis) => redis.stop()));
});

/** A certificate for `localhost`, signed by a CA of its own (`ca`: what clients must trust), made with openssl. */
export interface TestCertificate {
  ca: string;
  cert: string;
  key: string;
}

export function localhostCertificate(): TestCertificate {
  const dir = tempDir('runner-tls-');
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=runner test CA', '-keyout', file('ca.key'), '-out', file('ca.pem'));
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', file('redis.key'), '-out', file('redis.csr'));
  writeFileSync(file('san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', file('redis.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', file('san.ext'), '-out', file('redis.pem'));
  return { ca: file('ca.pem'), cert: file('redis.pem'), key: file('redis.key') };
}

/**
 * A real redis-server of its own on a free loopback port, in a temporary folder, stopped after the test file. Without
 * persistence unless `appendOnly`: then what it held survives `restart()`, as a production Redis set up for the queue.
 * With `tls` it takes only TLS connections (`rediss://localhost:…`), with `password` only authenticated ones.
 */
export async function startRedis(options: { appendOnly?: boolean; tls?: TestCertificate; password?: string } = {}): Promise<RunningRedis> {
  const port = await freePort();
  const dir = tempDir('runner-redis-');
  const listen = options.tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', options.tls.cert, '--tls-key-file', options.tls.key, '--tls-ca-cert-file', options.tls.ca, '--tls-auth-clients', 'no']
    : ['--port', String(port)];
  const auth = options.password ? ['--requirepass', options.password] : [];
  const args = [...listen, ...auth, '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', options.appendOnly ? 'yes' : 'no'];
  let child = await launch(args);
  const credentials = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  const redis: RunningRedis = {
    url: options.tls ? `rediss://${credentials}localhost:${port}` : `redis://${credentials}127.0.0.1:${port}`,
    port,
    async restart() {
      await stopProcess(child);
      child = await launch(args);
    },
    stop: () => stopProcess(child),
  };
  started.push(redis);
  return redis;
}

function launch(args: string[]): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve(child);
    });
    child.on('error', (error) => reject(new Error(`redis-server could not start (${error.message}): apt-get install redis-server`)));
    child.on('exit', (code) => reject(new Error(`redis-server exited with ${code} before it was ready:\n${output}`)));
  });
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}


export interface RunningWorker {
  child: ChildProcess;
  /** What it printed so far: one line per trial pulled, refused, handed back or finished. */
  output(): string;
  done: Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Workers in one checkout stand for one machine: they share a cache folder (checkpoints), which no other test sees. */
const caches = new Map<string, string>();
export const cacheOf = (cwd: string) => caches.get(cwd) ?? caches.set(cwd, tempDir('runner-cache-')).get(cwd)!;

/**
 * A real `runner worker` process (wasm, as the test experiments ask, plus `args`) pulling from `url`, in `cwd` (whose
 * git commit it runs). Its lock lasts 4 s, so that a killed worker's job goes to another within seconds.
 */
export function startWorker(url: string, cwd: string, env: Record<string, string> = {}, args: string[] = []): RunningWorker {
  const run = startCli(['worker', '--queue', url, '--backend', 'wasm', ...args], cwd, { RUNNER_QUEUE_LOCK_SECONDS: '4', XDG_CACHE_HOME: cacheOf(cwd), ...env });
  let output = '';
  run.child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { ...run, output: () => output };
}

/**
 * A throwaway git checkout holding `files`, committed: the commit its coordinator enqueues at and its workers run,
 * fixed for the test (the repository's own HEAD may move while the tests run).
 */
export function checkout(files: Record<string, string>, message = 'experiments'): { dir: string; commit: string; commitAgain(): string } {
  const dir = tempDir('runner-checkout-');
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], { cwd: dir, encoding: 'utf8' }).trim();
  git('init', '--quiet', '--initial-branch=main');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  git('add', '.');
  git('commit', '--quiet', '-m', message);
  return { dir, commit: git('rev-parse', 'HEAD'), commitAgain: () => (git('commit', '--quiet', '--allow-empty', '-m', 'another commit'), git('rev-parse', 'HEAD')) };
}

/**
 * The workers a test file starts, stopped after each test with Ctrl-C, as a user stops them (a worker hands back what
 * it was training and exits). `start` starts one as `startWorker` does; `all` lists every worker the test started.
 */
export function workerPool(): { start(url: string, cwd: string, env?: Record<string, string>, args?: string[]): RunningWorker; all(): RunningWorker[] } {
  const workers: RunningWorker[] = [];
  afterEach(async () => {
    const running = workers.splice(0).filter((w) => w.child.exitCode === null && w.child.signalCode === null);
    // A worker a failed test left frozen (SIGSTOP) would never hear the Ctrl-C.
    running.forEach((w) => (w.child.kill('SIGCONT'), w.child.kill('SIGINT')));
    await Promise.all(running.map((w) => w.done));
  });
  return {
    start(url, cwd, env, args) {
      const worker = startWorker(url, cwd, env, args);
      workers.push(worker);
      return worker;
    },
    all: () => workers,
  };
}
