import { registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { fastTransposedMatMul, wasmBatchMatMul } from './batch-mat-mul.js';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input.js';
import { depthwiseBackpropFilterConfig, depthwiseBackpropInputConfig } from './depthwise-backprop.js';
import { leadingAxesMean, leadingAxesSum } from './leading-axes-reduce.js';
import { maxPoolGradConfig } from './max-pool-grad.js';
import { tileConfig } from './tile.js';

/** The kernels tfjs-backend-wasm 4.22 lacks for training, or has slow or wrong. */
const REPLACEMENTS: readonly KernelConfig[] = [
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseBackpropFilterConfig,
  depthwiseBackpropInputConfig,
  maxPoolGradConfig,
  tileConfig,
];

let registered = false;

/** Registers them for the wasm backend, replacing wasm's own where it has one. Safe to call twice. */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  // These wrap wasm's own kernels, so they are captured before being replaced.
  const kernels = [...REPLACEMENTS, fastTransposedMatMul(wasmBatchMatMul()), leadingAxesSum(), leadingAxesMean()];
  for (const config of kernels) {
    try {
      unregisterKernel(config.kernelName, 'wasm');
    } catch {
      // Not registered by wasm at all (the backprop filter kernels): nothing to replace.
    }
    registerKernel(config);
  }
}
