/**
 * What a webgpu training step costs the CPU, on any machine: the seed CNN's TrainStep on Dawn's null backend,
 * which validates and records every call as a GPU would but executes nothing. On a real GPU the seed CNN is bound
 * by this cost (README, "webgpu on an NVIDIA H200"), plus the Vulkan driver's own, which the null backend leaves out.
 *
 * `node dist/bench/webgpu-issue.js BATCH` prints one JSON line: CPU ms per step (median of blocks), and per step the
 * dispatches, uniform uploads and queue submits. One batch size per process: the null device holds 512 MB, and
 * tfjs keeps every buffer it has freed for reuse.
 */
import { activateBackend } from '../src/backend/select.js';
import { seedCnnConfig } from './seed-cnn.js';
import { medianStepMs, READ_EVERY, syntheticStep } from './synthetic-step.js';

const BLOCKS = 7;
const STEPS_PER_BLOCK = 40;

// Before Dawn starts: its flags are read once per process.
process.env.RUNNER_DAWN_FLAGS = 'backend=null';
process.env.XDG_RUNTIME_DIR ??= '/tmp';
const info = await activateBackend('webgpu');
if (info.adapter?.device !== 'null-backend') throw new Error(`expected Dawn's null backend, got ${JSON.stringify(info.adapter)}`);

const calls = { dispatches: 0, uploads: 0, submits: 0 };
const pass = globalThis.GPUComputePassEncoder.prototype;
const dispatch = pass.dispatchWorkgroups;
pass.dispatchWorkgroups = function (...args: Parameters<typeof dispatch>) {
  calls.dispatches++;
  return dispatch.apply(this, args);
};
const queue = globalThis.GPUQueue.prototype;
const writeBuffer = queue.writeBuffer;
queue.writeBuffer = function (...args: Parameters<typeof writeBuffer>) {
  calls.uploads++;
  return writeBuffer.apply(this, args);
};
const submit = queue.submit;
queue.submit = function (...args: Parameters<typeof submit>) {
  calls.submits++;
  return submit.apply(this, args);
};

{
  const batch = Number(process.argv[2] ?? 128);
  const { step, x, y, dispose } = syntheticStep(seedCnnConfig(batch, 1, batch));
  for (let warm = 0; warm < READ_EVERY; warm++) step.run(x, y);
  await step.read();
  Object.assign(calls, { dispatches: 0, uploads: 0, submits: 0 });
  const median = await medianStepMs(step, x, y, BLOCKS, STEPS_PER_BLOCK);
  const steps = BLOCKS * STEPS_PER_BLOCK;
  console.log(
    JSON.stringify({
      batch,
      msPerStep: Number(median.toFixed(3)),
      samplesPerSecondCeiling: Math.round((batch / median) * 1000),
      dispatches: Number((calls.dispatches / steps).toFixed(1)),
      uploads: Number((calls.uploads / steps).toFixed(1)),
      submits: Number((calls.submits / steps).toFixed(1)),
    }),
  );
  dispose();
}
