import { backend_util, MaxPoolGrad, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapView } from './wasm-calls.js';

/**
 * Routes each output gradient to the first maximum of its pooling window, like the cpu backend.
 * Replaces wasm 4.22's kernel, whose max search starts at the smallest positive float and so drops the
 * gradient of every window whose values are all ≤ 0. One pass over the windows in plain JS: it is
 * memory-bound and cheap next to the convolutions.
 */
function maxPoolGrad({ inputs, attrs, backend }: { inputs: { dy: TensorInfo; input: TensorInfo }; attrs: Record<string, unknown>; backend: BackendWasm }): TensorInfo {
  const { dy, input } = inputs;
  const { filterSize, strides, pad, dimRoundingMode } = attrs as {
    filterSize: [number, number] | number;
    strides: [number, number] | number;
    pad: 'same' | 'valid' | number;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  const out = backend.makeOutput(input.shape, 'float32');
  const dx = heapView(backend, out);
  const x = heapView(backend, input);
  const g = heapView(backend, dy);
  dx.fill(0);
  // Channels innermost: every read is contiguous, and one window scan serves all channels at once.
  const best = new Float32Array(channels);
  const bestAt = new Int32Array(channels);
  for (let n = 0; n < batchSize; n++) {
    for (let i = 0; i < outHeight; i++) {
      const rowStart = Math.max(0, i * strideHeight - top);
      const rowEnd = Math.min(inHeight, i * strideHeight - top + filterHeight);
      for (let j = 0; j < outWidth; j++) {
        const colStart = Math.max(0, j * strideWidth - left);
        const colEnd = Math.min(inWidth, j * strideWidth - left + filterWidth);
        best.fill(-Infinity);
        bestAt.fill(-1);
        for (let r = rowStart; r < rowEnd; r++) {
          for (let q = colStart; q < colEnd; q++) {
            const base = ((n * inHeight + r) * inWidth + q) * channels;
            for (let c = 0; c < channels; c++) {
              const value = x[base + c]!;
              if (value > best[c]!) {
                best[c] = value;
                bestAt[c] = base + c;
              }
            }
          }
        }
        const gradBase = ((n * outHeight + i) * outWidth + j) * channels;
        for (let c = 0; c < channels; c++) if (bestAt[c]! >= 0) dx[bestAt[c]!] += g[gradBase + c]!;
      }
    }
  }
  return out;
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as KernelConfig['kernelFunc'],
};
