/**
 * The runner's WebGPU Conv2DBackpropFilter against tfjs-backend-webgpu's own, on the seed CNN's two layers:
 * `node dist/bench/webgpu-kernels.js [batch ...]` (default 128 512; BENCH_REPS calls per timing, default 20;
 * BENCH_GPU picks an adapter as `--gpu` does). Prints a table; asserts nothing. Meaningless on SwiftShader.
 */
import * as tf from '@tensorflow/tfjs';
import { pathToFileURL } from 'node:url';
import { installDawn, describeAdapter } from '../src/backend/webgpu/dawn.js';
import { conv2DBackpropFilterConfig } from '../src/backend/webgpu-training/conv2d-backprop-filter.js';
import { registerWebGpuTrainingKernels } from '../src/backend/webgpu-training/index.js';
import { stockKernel } from '../src/backend/webgpu-training/webgpu-program.js';

export interface KernelTiming {
  layer: string;
  batch: number;
  kernel: 'stock' | 'runner';
  /** Wall time per call with `reps` calls queued back to back and the last one read back. */
  wallMs: number;
  /** GPU time per call from timestamp queries, where the device has them. */
  gpuMs?: number;
  /** Max |runner − stock| / max |stock| on the same inputs. */
  relativeError?: number;
}

const LAYERS = [
  { layer: 'conv1 28×28×1 → 32', shape: [28, 28, 1], outC: 32 },
  { layer: 'conv2 14×14×32 → 64', shape: [14, 14, 32], outC: 64 },
] as const;

/** Sets up tfjs on Dawn with the runner's kernels (once per process), then times each kernel on each layer and batch. */
export async function benchConv2DBackpropFilter(batches: readonly number[] = [128, 512], reps = 20, gpu?: string): Promise<KernelTiming[]> {
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const navigatorGpu = await installDawn(gpu === undefined ? {} : { gpu });
  const adapter = await navigatorGpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('Dawn found no WebGPU adapter');
  await import('@tensorflow/tfjs-backend-webgpu');
  registerWebGpuTrainingKernels();
  tf.enableProdMode();
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs could not initialise the webgpu backend');
  const info = describeAdapter(adapter);
  console.log(`# Conv2DBackpropFilter on ${info.vendor} ${info.architecture} ${info.device} (${info.description})${info.software ? ', a CPU implementation' : ''}\n`);

  const backend = tf.backend();
  const kernels = { stock: stockKernel(tf.Conv2DBackpropFilter), runner: conv2DBackpropFilterConfig };
  const timings: KernelTiming[] = [];
  for (const batch of batches) {
    for (const { layer, shape, outC } of LAYERS) {
      const x = tf.randomNormal([batch, ...shape], 0, 1, 'float32', 1);
      const dy = tf.randomNormal([batch, shape[0], shape[1], outC], 0, 1, 'float32', 2);
      const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, shape[2], outC] };
      const call = (kernel: 'stock' | 'runner') => tf.engine().makeTensorFromTensorInfo(kernels[kernel].kernelFunc({ inputs: { x, dy }, backend, attrs }) as tf.TensorInfo);
      const results: Partial<Record<'stock' | 'runner', Float32Array>> = {};
      for (const kernel of ['stock', 'runner'] as const) {
        // Compiles the pipelines and uploads x and dy.
        const warm = call(kernel);
        results[kernel] = (await warm.data()) as Float32Array;
        warm.dispose();
        const started = performance.now();
        let last: tf.Tensor | undefined;
        for (let i = 0; i < reps; i++) {
          last?.dispose();
          last = call(kernel);
        }
        await last!.data();
        const wallMs = (performance.now() - started) / reps;
        last!.dispose();
        const profiled = await tf.time(() => {
          for (let i = 0; i < reps; i++) call(kernel).dispose();
        });
        const gpuMs = typeof profiled.kernelMs === 'number' && profiled.kernelMs > 0 ? profiled.kernelMs / reps : undefined;
        timings.push({ layer, batch, kernel, wallMs, gpuMs });
      }
      let diff = 0;
      let scale = 1e-30;
      results.stock!.forEach((v, i) => {
        diff = Math.max(diff, Math.abs(v - results.runner![i]!));
        scale = Math.max(scale, Math.abs(v));
      });
      timings[timings.length - 1]!.relativeError = diff / scale;
      tf.dispose([x, dy]);
    }
  }
  return timings;
}

function printTable(timings: readonly KernelTiming[]): void {
  console.log('| layer | batch | kernel | wall ms per call | GPU ms per call | speed-up (wall) | rel. error vs stock |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const t of timings) {
    const stock = timings.find((s) => s.kernel === 'stock' && s.layer === t.layer && s.batch === t.batch)!;
    const speedup = t.kernel === 'runner' ? `${(stock.wallMs / t.wallMs).toFixed(1)}×` : '';
    console.log(`| ${t.layer} | ${t.batch} | ${t.kernel} | ${t.wallMs.toFixed(3)} | ${t.gpuMs?.toFixed(3) ?? '—'} | ${speedup} | ${t.relativeError?.toExponential(1) ?? ''} |`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const batches = process.argv.slice(2).map(Number);
  printTable(await benchConv2DBackpropFilter(batches.length ? batches : undefined, Number(process.env.BENCH_REPS ?? 20), process.env.BENCH_GPU));
  // Dawn keeps the event loop alive.
  process.exit(0);
}
