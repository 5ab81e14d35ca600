/** Runs 20 small trials one after another in this process and prints live tensors and RSS after each, as JSON. */
import * as tf from '@tensorflow/tfjs';
import { activateBackend } from '../src/backend/select.js';
import { loadDataset } from '../src/data/dataset.js';
import { runTrial } from '../src/trial/run-trial.js';
import { seedCnnConfig } from './seed-cnn.js';

const dataset = await loadDataset({});
await activateBackend('wasm');
const after: { tensors: number; rssMiB: number }[] = [];
for (let trial = 0; trial < 20; trial++) {
  const config = seedCnnConfig(256);
  await runTrial({ ...config, train: { ...config.train, seed: trial } }, dataset);
  after.push({ tensors: tf.memory().numTensors, rssMiB: process.memoryUsage().rss / 2 ** 20 });
}
console.log(JSON.stringify(after));
