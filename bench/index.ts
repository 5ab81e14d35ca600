/**
 * `npm run bench`: training throughput per backend against PyTorch on the same model, per-trial
 * overhead of a sweep, the gain of parallel trials, and tensor/memory leaks. Prints figures; asserts nothing.
 */
import { execFileSync, fork, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeBackend } from '../src/backend/probe.js';
import { loadDataset } from '../src/data/dataset.js';
import { packageRoot } from '../src/package-root.js';
import { RunStore } from '../src/store/run-store.js';
import { tinySweep as experiment } from './tiny-sweep.js';

const WASM_SAMPLES = Number(process.env.BENCH_SAMPLES ?? 6000);
const CPU_SAMPLES = 320;
const PEER = process.env.PEER_TORCH ?? join(packageRoot, '..', 'shared', 'peers', 'torch_cnn.py');
const CLI = join(packageRoot, 'dist', 'src', 'cli.js');
const WORKER = join(packageRoot, 'dist', 'bench', 'throughput-worker.js');

interface Throughput {
  backend: string;
  gpu: boolean;
  samplesPerSecond: number;
  peakRssMiB: number;
  tensorsAfterEpoch: number[];
  tensorsBefore: number;
  tensorsAfterTrial: number;
  loadSeconds: number;
}

function throughput(backend: string, samples: number, epochs = 1): Promise<Throughput> {
  return new Promise((resolve, reject) => {
    const child = fork(WORKER, [backend, String(samples), String(epochs)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let out = '';
    child.stdout!.on('data', (c) => (out += c));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`${backend} bench exited ${code}`))));
  });
}

function torch(samples: number, threads: number): number | undefined {
  if (!existsSync(PEER)) return undefined;
  const run = spawnSync('/usr/bin/python3', [PEER, '1', String(samples), String(threads)], { encoding: 'utf8' });
  const match = /train (\d+) samples\/s/.exec(run.stdout);
  return match ? Number(match[1]) : undefined;
}

const fmt = (n: number | undefined, digits = 0) => (n === undefined ? '—' : n.toFixed(digits));
const machine = `${cpus()[0]?.model.trim()} × ${cpus().length} cores, Node ${process.version}`;
console.log(`# runner bench — ${new Date().toISOString().slice(0, 10)} — ${machine}\n`);

// `--ui-only`: the dashboard's figures alone, which need no training.
if (process.argv.includes('--ui-only')) {
  await (await import('./ui.js')).benchUi();
  process.exit(0);
}

// `--queue-only`: the queue's overhead against the local pool, with its own redis-server.
if (process.argv.includes('--queue-only')) {
  await (await import('./queue.js')).benchQueue();
  process.exit(0);
}

// `--validate-only`: validation time of large sweep grids, which needs no training.
if (process.argv.includes('--validate-only')) {
  (await import('./validate.js')).benchValidate();
  process.exit(0);
}

// The CPU cost of a webgpu training step, on any machine (Dawn's null backend); `--webgpu-issue-only` stops after it.
// Not with `--webgpu-only`, which is for a GPU machine's scarce time.
if (!process.argv.includes('--webgpu-only')) {
  const { benchWebGpuIssue } = await import('./webgpu-issue-table.js');
  benchWebGpuIssue([32, 128, 512]);
  if (process.argv.includes('--webgpu-issue-only')) process.exit(0);
  console.log();
}

// On a GPU machine the webgpu rows come first; `--webgpu-only` stops after them.
const webgpuProbe = await probeBackend('webgpu', { gpu: process.env.RUNNER_GPU });
if (webgpuProbe.gpu || process.env.BENCH_WEBGPU) {
  const { benchWebGpu } = await import('./webgpu.js');
  const small = !webgpuProbe.gpu;
  const list = (name: string, fallback: number[]) => (process.env[name] !== undefined ? process.env[name]!.split(',').filter(Boolean).map(Number) : fallback);
  await benchWebGpu({
    samples: Number(process.env.BENCH_WEBGPU_SAMPLES ?? (small ? 2048 : 30000)),
    batches: list('BENCH_WEBGPU_BATCHES', small ? [32, 128] : [32, 128, 512]),
    parallel: list('BENCH_WEBGPU_PARALLEL', small ? [2] : [2, 4]),
    overheadTrials: Number(process.env.BENCH_WEBGPU_OVERHEAD_TRIALS ?? 4),
    peer: PEER,
  });
  if (process.argv.includes('--webgpu-only')) process.exit(0);
  console.log();
}


// Dataset load.
const loads: number[] = [];
for (let i = 0; i < 3; i++) {
  const started = performance.now();
  await loadDataset({});
  loads.push((performance.now() - started) / 1000);
}
console.log(`Fashion-MNIST load (60,000 + 10,000 images): ${Math.min(...loads).toFixed(2)} s best of 3\n`);

// Throughput per backend, one process each.
const native = (await probeBackend('tensorflow', {})).usable;
const single: Throughput[] = [];
if (native) single.push(await throughput('tensorflow', WASM_SAMPLES));
single.push(await throughput('wasm', WASM_SAMPLES, 2));
single.push(await throughput('cpu', CPU_SAMPLES));
const parallel = await Promise.all([throughput('wasm', WASM_SAMPLES, 2), throughput('wasm', WASM_SAMPLES, 2)]);
const parallelRate = parallel.reduce((s, p) => s + p.samplesPerSecond, 0);
const torch1 = torch(WASM_SAMPLES, 1);
const torch2 = torch(WASM_SAMPLES, 2);

console.log('## Seed CNN training throughput (batch 32, adam, real Fashion-MNIST)\n');
console.log('| backend | processes | samples/s | s per 60,000-sample epoch | peak RSS MiB | vs PyTorch (same threads) |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const t of single) {
  const peer = t.backend === 'cpu' ? undefined : torch1;
  console.log(`| ${t.backend}${t.gpu ? ' (GPU)' : ''} | 1 | ${fmt(t.samplesPerSecond)} | ${fmt(60000 / t.samplesPerSecond)} | ${fmt(t.peakRssMiB)} | ${peer ? `${fmt(t.samplesPerSecond / peer, 2)}×` : '—'} |`);
}
console.log(`| wasm | 2 in parallel | ${fmt(parallelRate)} | ${fmt(60000 / parallelRate)} | ${fmt(Math.max(...parallel.map((p) => p.peakRssMiB)))} each | ${torch2 ? `${fmt(parallelRate / torch2, 2)}×` : '—'} |`);
if (torch1) console.log(`| PyTorch CPU | 1 thread | ${torch1} | ${fmt(60000 / torch1)} | | 1.00× |`);
if (torch2) console.log(`| PyTorch CPU | 2 threads | ${torch2} | ${fmt(60000 / torch2)} | | 1.00× |`);
if (!torch1) console.log(`\n(PyTorch peer not run: needs ${PEER} and python3-torch)`);

const wasm = single.find((t) => t.backend === 'wasm')!;
console.log(`\nLive tensors, wasm: ${wasm.tensorsBefore} before the trial, ${wasm.tensorsAfterEpoch.join(' / ')} after each epoch, ${wasm.tensorsAfterTrial} after it.`);

// Sweep overhead and parallel gain through the real CLI and database.
const dir = mkdtempSync(join(tmpdir(), 'runner-bench-'));
function timedSweep(name: string, yaml: string, concurrency: number): { wall: number; inTrial: number; trials: number } {
  const file = join(dir, `${name}.yaml`);
  const db = join(dir, `${name}-${concurrency}.sqlite`);
  writeFileSync(file, yaml);
  const started = performance.now();
  execFileSync(process.execPath, [CLI, 'sweep', file, '--db', db, '--concurrency', String(concurrency)], { stdio: 'ignore' });
  const wall = (performance.now() - started) / 1000;
  const store = new RunStore(db);
  const rows = store.runs({ status: 'completed' });
  store.close();
  return { wall, inTrial: rows.reduce((s, r) => s + (r.seconds ?? 0), 0), trials: rows.length };
}
const tinyRates = [0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008];
const overhead = timedSweep('overhead', experiment('overhead', 64, 1, tinyRates), 1);
console.log(`\n## Sweep overhead\n\n8 tiny trials, one at a time: ${overhead.wall.toFixed(1)} s wall, ${overhead.inTrial.toFixed(1)} s inside trials → ${((overhead.wall - overhead.inTrial) / overhead.trials).toFixed(2)} s per trial for process start, backend, data load and database writes.`);

const realRates = [0.001, 0.0005, 0.0003, 0.0002];
const one = timedSweep('parallel', experiment('parallel', 6000, 1, realRates), 1);
const two = timedSweep('parallel', experiment('parallel', 6000, 1, realRates), 2);
console.log(`\n## Parallel trials\n\n4 trials of 6,000 samples: --concurrency 1 ${one.wall.toFixed(1)} s, --concurrency 2 ${two.wall.toFixed(1)} s (${(one.wall / two.wall).toFixed(2)}× faster).`);

// Leaks across trials in one process.
const leak = await new Promise<{ tensors: number; rssMiB: number }[]>((resolve, reject) => {
  const child = fork(join(packageRoot, 'dist', 'bench', 'leak-worker.js'), [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`leak bench exited ${code}`))));
});
const rss = leak.map((l) => l.rssMiB);
console.log(
  `\n## Leaks\n\n20 trials in one process: live tensors after each trial ${[...new Set(leak.map((l) => l.tensors))].join(', ')}; RSS after trial 1 ${rss[0]!.toFixed(0)} MiB, after trial 10 ${rss[9]!.toFixed(0)} MiB, after trial 20 ${rss[19]!.toFixed(0)} MiB.`,
);

console.log();
await (await import('./ui.js')).benchUi();

console.log();
(await import('./validate.js')).benchValidate();
