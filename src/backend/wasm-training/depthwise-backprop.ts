import {
  backend_util,
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropInput,
  type KernelConfig,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapView } from './wasm-calls.js';

/**
 * Gradients of depthwise convolution, which wasm lacks (so separable and depthwise layers could not train).
 * Each output channel c·M + m sees only input channel c, so the work is C·M small products per position:
 * a direct loop over the heap is linear in the work and needs no scratch tensors.
 */
interface DepthwiseAttrs {
  strides: [number, number] | number;
  dilations: [number, number] | number;
  pad: 'same' | 'valid' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

type Visit = (xAt: number, dyAt: number, wAt: number) => void;

/** Calls `visit` for every (input, output gradient, filter) index triple the forward pass multiplied. */
function forEachTap(info: backend_util.Conv2DInfo, visit: Visit): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, strideHeight, strideWidth, dilationHeight, dilationWidth, filterHeight, filterWidth } = info;
  const multiplier = outChannels / inChannels;
  const { top, left } = info.padInfo;
  for (let n = 0; n < batchSize; n++) {
    for (let i = 0; i < outHeight; i++) {
      for (let a = 0; a < filterHeight; a++) {
        const h = i * strideHeight - top + a * dilationHeight;
        if (h < 0 || h >= inHeight) continue;
        for (let j = 0; j < outWidth; j++) {
          for (let b = 0; b < filterWidth; b++) {
            const w = j * strideWidth - left + b * dilationWidth;
            if (w < 0 || w >= inWidth) continue;
            const xBase = ((n * inHeight + h) * inWidth + w) * inChannels;
            const dyBase = ((n * outHeight + i) * outWidth + j) * outChannels;
            const wBase = (a * filterWidth + b) * outChannels;
            for (let k = 0; k < outChannels; k++) visit(xBase + Math.floor(k / multiplier), dyBase + k, wBase + k);
          }
        }
      }
    }
  }
}

function backpropFilter({ inputs, attrs, backend }: { inputs: { x: TensorInfo; dy: TensorInfo }; attrs: Record<string, unknown>; backend: BackendWasm }): TensorInfo {
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as DepthwiseAttrs & { filterShape: [number, number, number, number] };
  const info = backend_util.computeConv2DInfo(inputs.x.shape as [number, number, number, number], filterShape, strides, dilations, pad, dimRoundingMode, true);
  const out = backend.makeOutput(filterShape, 'float32');
  const dw = heapView(backend, out);
  const x = heapView(backend, inputs.x);
  const dy = heapView(backend, inputs.dy);
  dw.fill(0);
  forEachTap(info, (xAt, dyAt, wAt) => (dw[wAt] += x[xAt]! * dy[dyAt]!));
  return out;
}

function backpropInput({ inputs, attrs, backend }: { inputs: { dy: TensorInfo; filter: TensorInfo }; attrs: Record<string, unknown>; backend: BackendWasm }): TensorInfo {
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as DepthwiseAttrs & { inputShape: [number, number, number, number] };
  const info = backend_util.computeConv2DInfo(inputShape, inputs.filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, true);
  const out = backend.makeOutput(inputShape, 'float32');
  const dx = heapView(backend, out);
  const w = heapView(backend, inputs.filter);
  const dy = heapView(backend, inputs.dy);
  dx.fill(0);
  forEachTap(info, (xAt, dyAt, wAt) => (dx[xAt] += w[wAt]! * dy[dyAt]!));
  return out;
}

export const depthwiseBackpropFilterConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: backpropFilter as unknown as KernelConfig['kernelFunc'],
};

export const depthwiseBackpropInputConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: backpropInput as unknown as KernelConfig['kernelFunc'],
};
