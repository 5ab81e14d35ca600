/**
 * One backend's training throughput on the seed CNN, in a process of its own (a fresh tfjs engine).
 * argv: backend samples epochs [batch]. Prints one JSON line; samples/s is the last epoch's.
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
const tensorsAfterEpoch: number[] = [];
// Training time of the last epoch (validation excluded): with two or more epochs, the first pays for compiling
// kernels and warming caches and the last is the steady state. Progress reports are no clock: they arrive every
// few batches, once the device has caught up, while later batches are already queued.
let lastEpochTraining = 0;
await runTrial(config, dataset, {
  onBatch() {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  },
  onEpoch(record) {
    lastEpochTraining = record.seconds - record.validationSeconds;
    tensorsAfterEpoch.push(tf.memory().numTensors);
  },
});
const trainSamples = Math.min(samples, dataset.train.count);
console.log(
  JSON.stringify({
    backend: backend.name,
    gpu: backend.gpu,
    adapter: backend.adapter,
    batchSize,
    samplesPerSecond: trainSamples / lastEpochTraining,
    warmedUp: epochs > 1,
    peakRssMiB: peakRss / 2 ** 20,
    tensorsAfterEpoch,
    tensorsBefore,
    tensorsAfterTrial: tf.memory().numTensors,
    loadSeconds,
  }),
);
