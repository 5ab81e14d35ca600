/**
 * The webgpu rows of `npm run bench`: the seed CNN through the runner's own training loop at batch 32, 128 and
 * 512, the per-trial overhead of a webgpu sweep, trials sharing one GPU, and the PyTorch CUDA peer beside them.
 */
import { execFileSync, fork, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/package-root.js';
import { RunStore } from '../src/store/run-store.js';
import { tinySweep } from './tiny-sweep.js';

const WORKER = join(packageRoot, 'dist', 'bench', 'throughput-worker.js');
const CLI = join(packageRoot, 'dist', 'src', 'cli.js');

export interface WebGpuBenchOptions {
  /** Training samples per epoch of a throughput run; the second of its two epochs is timed. */
  samples: number;
  batches: number[];
  /** Trials at once in the sharing rows (1 is the batch-128 row above). */
  parallel: number[];
  /** Tiny trials timed through the CLI for the per-trial overhead; 0 skips it. */
  overheadTrials: number;
  peer?: string;
}

interface Throughput {
  samplesPerSecond: number;
  gpu: boolean;
  adapter?: { vendor: string; architecture: string; device: string; description: string };
}

function throughput(samples: number, batch: number): Promise<Throughput> {
  return new Promise((resolve, reject) => {
    const child = fork(WORKER, ['webgpu', String(samples), '2', String(batch)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let out = '';
    child.stdout!.on('data', (c) => (out += c));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`webgpu bench exited ${code}`))));
  });
}

/** The PyTorch peer's samples/s on CUDA, and its torch version, as it prints them. */
function torchCuda(peer: string | undefined, samples: number, batch: number): { rate: number; version?: string } | undefined {
  if (!peer || !existsSync(peer)) return undefined;
  const run = spawnSync('python3', [peer, '1', String(samples), '16', String(batch), 'cuda'], { encoding: 'utf8' });
  const match = /train (\d+) samples\/s/.exec(run.stdout);
  return match ? { rate: Number(match[1]), version: /^torch (\S+)/m.exec(run.stdout)?.[1] } : undefined;
}

const fmt = (n: number | undefined, digits = 0) => (n === undefined || !Number.isFinite(n) ? '—' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));

export async function benchWebGpu(options: WebGpuBenchOptions): Promise<void> {
  console.log('## webgpu: seed CNN training throughput (adam, real Fashion-MNIST, the runner\'s training loop)\n');
  const rows: { batch: number; rate: Throughput; peer?: { rate: number; version?: string } }[] = [];
  for (const batch of options.batches) rows.push({ batch, rate: await throughput(options.samples, batch), peer: torchCuda(options.peer, 60000, batch) });
  const adapter = rows[0]?.rate.adapter;
  if (adapter) console.log(`Adapter: ${adapter.device || adapter.architecture} (${adapter.vendor}, ${adapter.description})${rows[0]!.rate.gpu ? '' : ' — a CPU adapter: figures say nothing about GPU speed'}\n`);
  const version = rows.find((row) => row.peer?.version)?.peer?.version;
  if (version) console.log(`PyTorch peer: torch ${version}\n`);
  console.log('| batch | webgpu samples/s | PyTorch CUDA samples/s | webgpu / PyTorch |');
  console.log('| --- | --- | --- | --- |');
  for (const { batch, rate, peer } of rows) {
    console.log(`| ${batch} | ${fmt(rate.samplesPerSecond)} | ${fmt(peer?.rate)} | ${peer ? fmt(rate.samplesPerSecond / peer.rate, 2) + '×' : '—'} |`);
  }

  if (options.overheadTrials > 0) overhead(options.overheadTrials);

  const single = rows.find((r) => r.batch === 128)?.rate.samplesPerSecond;
  console.log('\n### Trials sharing the GPU (seed CNN, batch 128, one process each)\n');
  console.log('| trials at once | samples/s each | total samples/s | vs one |');
  console.log('| --- | --- | --- | --- |');
  if (single) console.log(`| 1 | ${fmt(single)} | ${fmt(single)} | 1.00× |`);
  for (const n of options.parallel) {
    const results = await Promise.all(Array.from({ length: n }, () => throughput(options.samples, 128)));
    const total = results.reduce((s, r) => s + r.samplesPerSecond, 0);
    console.log(`| ${n} | ${results.map((r) => fmt(r.samplesPerSecond)).join(', ')} | ${fmt(total)} | ${single ? fmt(total / single, 2) + '×' : '—'} |`);
  }
}

/** Per-trial overhead through the real CLI and database: process start, Dawn, shader compilation, data, records. */
function overhead(trials: number): void {
  const dir = mkdtempSync(join(tmpdir(), 'runner-bench-webgpu-'));
  const file = join(dir, 'overhead.yaml');
  writeFileSync(file, tinySweep('overhead', 64, 1, Array.from({ length: trials }, (_, i) => (i + 1) / 1000)));
  const db = join(dir, 'overhead.sqlite');
  const started = performance.now();
  execFileSync(process.execPath, [CLI, 'sweep', file, '--db', db, '--backend', 'webgpu', '--concurrency', '1'], { stdio: 'ignore', env: process.env });
  const wall = (performance.now() - started) / 1000;
  const store = new RunStore(db);
  const runs = store.runs({ status: 'completed' });
  store.close();
  const inTrial = runs.reduce((s, r) => s + (r.seconds ?? 0), 0);
  console.log(`\nPer-trial overhead: ${runs.length} tiny trials one at a time, ${wall.toFixed(1)} s wall, ${inTrial.toFixed(1)} s inside trials → ${((wall - inTrial) / Math.max(1, runs.length)).toFixed(2)} s per trial outside training, and ${(inTrial / Math.max(1, runs.length)).toFixed(2)} s inside each (Dawn start, shader compilation, 64 samples, test on 500).`);
}
