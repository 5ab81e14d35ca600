/**
 * Time per kernel of one training step on a backend: `node dist/bench/profile-step.js [wasm] [experiment.yaml|batch]`
 * (default: the seed CNN at batch 32, the model of the throughput benchmark), through the runner's own step.
 * The kernels that dominate are the ones worth replacing. On webgpu the kernel times are GPU times (timestamp
 * queries) where the adapter has them.
 */
import * as tf from '@tensorflow/tfjs';
import { activateBackend, type BackendName } from '../src/backend/select.js';
import { loadExperiment } from '../src/config/load-experiment.js';
import { expandTrials } from '../src/sweep/expand.js';
import { seedCnnConfig } from './seed-cnn.js';
import { medianStepMs, syntheticStep } from './synthetic-step.js';

const backend = (process.argv[2] ?? 'wasm') as BackendName;
await activateBackend(backend);
const target = process.argv[3];
const config = target && !/^\d+$/.test(target) ? expandTrials(loadExperiment(target))[0]!.config : seedCnnConfig(32, 1, Number(target ?? 32));
const batch = config.train.batchSize;
const { step: trainStep, x, y } = syntheticStep(config);
const settle = () => trainStep.read();
for (let warm = 0; warm < 3; warm++) trainStep.run(x, y);
await settle();

const steps = 10;
const totals = new Map<string, { ms: number; calls: number }>();
const started = performance.now();
for (let step = 0; step < steps; step++) {
  const profile = await tf.profile(async () => {
    trainStep.run(x, y);
    await settle();
  });
  for (const k of profile.kernels) {
    const entry = totals.get(k.name) ?? { ms: 0, calls: 0 };
    entry.ms += Number(k.kernelTimeMs);
    entry.calls++;
    totals.set(k.name, entry);
  }
}
const wall = (performance.now() - started) / steps;
const rows = [...totals.entries()].sort((a, b) => b[1].ms - a[1].ms);
const kernelTotal = rows.reduce((s, [, v]) => s + v.ms, 0) / steps;
const plain = await medianStepMs(trainStep, x, y, 7, 32);
console.log(`${backend}, ${config.name}, batch ${batch}: ${plain.toFixed(2)} ms per step (median of 7 blocks of 32; ${((batch / plain) * 1000).toFixed(0)} samples/s); ${wall.toFixed(1)} ms with profiling (${((batch / wall) * 1000).toFixed(0)} samples/s), kernels ${kernelTotal.toFixed(1)} ms`);
console.log('| kernel | ms per step | calls per step | share |');
console.log('| --- | --- | --- | --- |');
for (const [name, { ms, calls }] of rows.slice(0, 15)) {
  console.log(`| ${name} | ${(ms / steps).toFixed(2)} | ${calls / steps} | ${((ms / steps / kernelTotal) * 100).toFixed(1)}% |`);
}
