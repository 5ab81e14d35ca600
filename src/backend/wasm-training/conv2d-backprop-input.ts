import { backend_util, Conv2DBackpropInput, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callWasm, heapView, release, transpose } from './wasm-calls.js';

/**
 * dx is a stride-1 forward convolution of dy (spread out by the forward stride, zeros between) with the
 * filter turned 180° and its channel axes swapped — so it runs on XNNPACK, where wasm's own kernel is a
 * scalar loop.
 */
function conv2DBackpropInput({ inputs, attrs, backend }: { inputs: { dy: TensorInfo; filter: TensorInfo }; attrs: Record<string, unknown>; backend: BackendWasm }): TensorInfo {
  const { dy, filter } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as {
    strides: [number, number] | number;
    pad: 'same' | 'valid' | number | backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    inputShape: [number, number, number, number];
  };
  if (dataFormat === 'NCHW') throw new Error('Conv2DBackpropInput on wasm supports NHWC only');
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode);
  const { inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  const padTop = filterHeight - 1 - top;
  const padLeft = filterWidth - 1 - left;
  if (padTop < 0 || padLeft < 0) throw new Error('Conv2DBackpropInput on wasm: padding larger than the filter is not supported');

  const owned: TensorInfo[] = [];
  const spread = strideHeight > 1 || strideWidth > 1 ? spreadByStride(backend, dy, strideHeight, strideWidth) : dy;
  if (spread !== dy) owned.push(spread);
  const spreadHeight = (outHeight - 1) * strideHeight + 1;
  const spreadWidth = (outWidth - 1) * strideWidth + 1;
  const reversed = callWasm(backend, 'Reverse', { x: filter }, { dims: [0, 1] });
  const flipped = transpose(backend, reversed, [0, 1, 3, 2]);
  owned.push(reversed, flipped);
  const padding: backend_util.ExplicitPadding = [
    [0, 0],
    [padTop, inHeight - spreadHeight + top],
    [padLeft, inWidth - spreadWidth + left],
    [0, 0],
  ];
  const dx = callWasm(backend, 'Conv2D', { x: spread, filter: flipped }, { strides: 1, pad: padding, dataFormat: 'NHWC', dilations: 1 });
  release(backend, ...owned);
  return dx;
}

/** dy with (stride - 1) zero rows and columns between its values: the layout the forward stride skipped. */
function spreadByStride(backend: BackendWasm, dy: TensorInfo, strideHeight: number, strideWidth: number): TensorInfo {
  const [batch, height, width, channels] = dy.shape as [number, number, number, number];
  const spreadHeight = (height - 1) * strideHeight + 1;
  const spreadWidth = (width - 1) * strideWidth + 1;
  const out = backend.makeOutput([batch, spreadHeight, spreadWidth, channels], 'float32');
  // Views are taken after the allocation: growing the wasm heap detaches older ones.
  const target = heapView(backend, out);
  const source = heapView(backend, dy);
  target.fill(0);
  for (let n = 0; n < batch; n++) {
    for (let i = 0; i < height; i++) {
      for (let j = 0; j < width; j++) {
        const from = ((n * height + i) * width + j) * channels;
        const to = ((n * spreadHeight + i * strideHeight) * spreadWidth + j * strideWidth) * channels;
        target.set(source.subarray(from, from + channels), to);
      }
    }
  }
  return out;
}

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput as unknown as KernelConfig['kernelFunc'],
};
