/**
 * One backend's training throughput on the seed CNN, in a process of its own (a fresh tfjs engine).
 * argv: backend samples epochs [batch]. Prints one JSON line.
 */
import * as tf from '@tensorflow/tfjs';
import { activateBackend, type BackendName } from '../src/backend/select.js';
import { loadDataset } from '../src/data/dataset.js';
import { runTrial } from '../src/trial/run-trial.js';
import { seedCnnConfig } from './seed-cnn.js';

const [backendName, samplesText, epochsText, batchText] = process.argv.slice(2);
const samples = Number(samplesText);
const epochs = Number(epochsText ?? 1);
const batchSize = Number(batchText ?? 32);

const loadStarted = performance.now();
const dataset = await loadDataset({});
const loadSeconds = (performance.now() - loadStarted) / 1000;
const backend = await activateBackend(backendName as BackendName, { gpu: process.env.RUNNER_GPU });
const config = seedCnnConfig(samples, epochs, batchSize);
const tensorsBefore = tf.memory().numTensors;

let peakRss = process.memoryUsage().rss;
// Progress arrives every few batches, once the device has finished them: time from the first report to the last.
let first: { batch: number; time: number } | undefined;
let last = { batch: 0, time: 0 };
const batches = Math.ceil(samples / batchSize);
const tensorsAfterEpoch: number[] = [];
// Training time of the first epoch, for runs too short to have two progress reports to time between.
let firstEpochTraining = 0;
await runTrial(config, dataset, {
  onBatch(epoch, batch) {
    const now = performance.now();
    // The first batches compile kernels and warm caches; time the steady state after them.
    const done = (epoch - 1) * batches + batch;
    first ??= { batch: done, time: now };
    last = { batch: done, time: now };
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  },
  onEpoch(record) {
    if (record.epoch === 1) firstEpochTraining = record.seconds - record.validationSeconds;
    tensorsAfterEpoch.push(tf.memory().numTensors);
  },
});
const timedSamples = (last.batch - first!.batch) * batchSize;
const steady = timedSamples > 0 ? timedSamples / ((last.time - first!.time) / 1000) : Math.min(samples, batches * batchSize) / firstEpochTraining;
console.log(
  JSON.stringify({
    backend: backend.name,
    gpu: backend.gpu,
    adapter: backend.adapter,
    batchSize,
    samplesPerSecond: steady,
    peakRssMiB: peakRss / 2 ** 20,
    tensorsAfterEpoch,
    tensorsBefore,
    tensorsAfterTrial: tf.memory().numTensors,
    loadSeconds,
  }),
);
