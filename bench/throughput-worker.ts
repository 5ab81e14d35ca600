/**
 * One backend's training throughput on the seed CNN, in a process of its own (a fresh tfjs engine).
 * argv: backend samples epochs. Prints one JSON line.
 */
import * as tf from '@tensorflow/tfjs';
import { activateBackend, type BackendName } from '../src/backend/select.js';
import { loadDataset } from '../src/data/dataset.js';
import { runTrial } from '../src/trial/run-trial.js';
import { seedCnnConfig } from './seed-cnn.js';

const [backendName, samplesText, epochsText] = process.argv.slice(2);
const samples = Number(samplesText);
const epochs = Number(epochsText ?? 1);

const loadStarted = performance.now();
const dataset = await loadDataset({});
const loadSeconds = (performance.now() - loadStarted) / 1000;
const backend = await activateBackend(backendName as BackendName);
const config = seedCnnConfig(samples, epochs);
const tensorsBefore = tf.memory().numTensors;

let peakRss = process.memoryUsage().rss;
let firstBatchEnd = 0;
let lastBatchEnd = 0;
let timedBatches = 0;
const tensorsAfterEpoch: number[] = [];
await runTrial(config, dataset, {
  onBatch(epoch, batch) {
    const now = performance.now();
    // The first batch compiles kernels and warms caches; time the steady state after it.
    if (epoch === 1 && batch === 1) firstBatchEnd = now;
    else timedBatches++;
    lastBatchEnd = now;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  },
  onEpoch() {
    tensorsAfterEpoch.push(tf.memory().numTensors);
  },
});
const timedSamples = timedBatches * config.train.batchSize;
console.log(
  JSON.stringify({
    backend: backend.name,
    gpu: backend.gpu,
    samplesPerSecond: timedSamples / ((lastBatchEnd - firstBatchEnd) / 1000),
    peakRssMiB: peakRss / 2 ** 20,
    tensorsAfterEpoch,
    tensorsBefore,
    tensorsAfterTrial: tf.memory().numTensors,
    loadSeconds,
  }),
);
