import { getKernelsForBackend, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { columnSumConfig } from './column-sum.js';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { crossentropyKernels, registerCrossentropyGradient } from './crossentropy.js';
import { activationGradientKernels, registerActivationGradients } from './gradients.js';
import { addTotalsKernel } from './totals.js';
import { watchReads } from './fused-update.js';
import { cacheBindGroups } from './bind-group-cache.js';
import { captureStockKernel, type WebGPUBackend } from './webgpu-program.js';

/** The kernels tfjs-backend-webgpu 4.22 has but too slow for training. */
const REPLACEMENTS: readonly KernelConfig[] = [conv2DBackpropFilterConfig, columnSumConfig];

/** The runner's own kernels, with no webgpu counterpart to replace. */
const OWN_KERNELS: readonly KernelConfig[] = [...crossentropyKernels, addTotalsKernel, ...activationGradientKernels];

let registered = false;

/**
 * Registers them for the webgpu backend, replacing webgpu's own. Call it after importing
 * `@tensorflow/tfjs-backend-webgpu`, whose import registers webgpu's kernels (over these, if they came first),
 * and before training. Safe to call twice.
 */
export function registerWebGpuTrainingKernels(): void {
  if (registered) return;
  if (getKernelsForBackend('webgpu').length === 0) {
    throw new Error('webgpu has no kernels yet: import @tensorflow/tfjs-backend-webgpu (after installing Dawn) before registerWebGpuTrainingKernels()');
  }
  for (const config of REPLACEMENTS) {
    // Kept for the cases a replacement hands back to it (NCHW, say).
    if (captureStockKernel(config.kernelName)) unregisterKernel(config.kernelName, 'webgpu');
    registerKernel(config);
  }
  for (const config of OWN_KERNELS) registerKernel(config);
  registerCrossentropyGradient();
  registerActivationGradients();
  registered = true;
}

/**
 * Makes the active webgpu backend count its reads in flight from the start, so that an in-place optimizer update
 * never leaves a read that began before the first update with stale values (fused-update.ts), and reuses bind groups
 * (bind-group-cache.ts; RUNNER_BIND_GROUPS=create makes one per dispatch as tfjs does, for measuring the difference).
 */
export function prepareWebGpuBackend(backend: WebGPUBackend): void {
  watchReads(backend);
  if (process.env.RUNNER_BIND_GROUPS !== 'create') cacheBindGroups(backend);
}
