/**
 * Entry point of a trial's own process. One process per trial gives every trial a clean tfjs engine,
 * returns GPU memory between trials, and lets CPU trials use several cores (wasm runs one thread per process).
 */
import { activateBackend } from '../backend/select.js';
import { readLocation } from '../data/dataset.js';
import type { RunTrialMessage, WorkerMessage } from './protocol.js';
import { runTrial } from './run-trial.js';

let stopRequested = false;
const requestStop = () => {
  stopRequested = true;
};
// The parent decides when a trial stops; the worker finishes the current batch and reports `interrupted`.
process.on('SIGINT', requestStop);
process.on('SIGTERM', requestStop);
// Without a parent nobody can record the result: stop rather than train for no one.
process.on('disconnect', () => process.exit(1));

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => (process.send ? process.send(message, undefined, {}, () => resolve()) : resolve()));
}

process.once('message', async (message: RunTrialMessage) => {
  try {
    const started = performance.now();
    const backend = await activateBackend(message.backend, { gpu: message.gpu });
    const dataset = { ...readLocation(message.data), location: message.data };
    let lastBatchReport = 0;
    const result = await runTrial(
      message.config,
      dataset,
      {
        onStart(restored) {
          void send({ type: 'ready', backend, loadSeconds: (performance.now() - started) / 1000, restored: [...restored] });
        },
        onBatch(epoch, batch, batches, loss) {
          const time = performance.now();
          // Progress is for eyes: ten updates a second are plenty and keep IPC off the hot path.
          if (time - lastBatchReport > 100 || batch === batches) {
            lastBatchReport = time;
            void send({ type: 'batch', epoch, batch, batches, loss });
          }
        },
        onEpoch(record) {
          void send({ type: 'epoch', record });
        },
        shouldStop: () => stopRequested,
      },
      { modelDir: message.modelDir, checkpointDir: message.checkpointDir, untilEpoch: message.untilEpoch },
    );
    await send({ type: 'result', result, backend });
    process.exit(0);
  } catch (error) {
    await send({ type: 'error', message: (error as Error).message ?? String(error) });
    process.exit(1);
  }
});
