import { backend_util, Conv2DBackpropFilter, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callWasm, release, transpose } from './wasm-calls.js';

/**
 * dW[a,b,ci,co] = Σ_{n,i,j} x[n, i·s + a - padTop, j·s + b - padLeft, ci] · dy[n,i,j,co]
 *
 * which is a forward convolution of x with dy as the filter, once the batch axis plays the role of
 * input channels: input xᵀ = [ci, h, w, n], filter dyᵀ = [ho, wo, n, co], dilation = the forward stride,
 * output [ci, kh, kw, co]. That runs on XNNPACK instead of a scalar loop.
 */
function conv2DBackpropFilter({ inputs, attrs, backend }: { inputs: { x: TensorInfo; dy: TensorInfo }; attrs: Record<string, unknown>; backend: BackendWasm }): TensorInfo {
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as {
    strides: [number, number] | number;
    pad: backend_util.PadInfo['type'] | number | backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  if (dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter on wasm supports NHWC only');
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad as 'same', dimRoundingMode);
  const { inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  // Rows/columns the forward pass padded at the far side, or (when negative) input it never reached.
  const bottom = filterHeight + (outHeight - 1) * strideHeight - inHeight - top;
  const right = filterWidth + (outWidth - 1) * strideWidth - inWidth - left;

  let input = x;
  const owned: TensorInfo[] = [];
  if (bottom < 0 || right < 0) {
    input = callWasm(backend, 'Slice', { x }, { begin: [0, 0, 0, 0], size: [-1, inHeight + Math.min(0, bottom), inWidth + Math.min(0, right), -1] });
    owned.push(input);
  }
  const xT = transpose(backend, input, [3, 1, 2, 0]);
  const dyT = transpose(backend, dy, [1, 2, 0, 3]);
  owned.push(xT, dyT);
  const padding: backend_util.ExplicitPadding = [
    [0, 0],
    [top, Math.max(0, bottom)],
    [left, Math.max(0, right)],
    [0, 0],
  ];
  const grad = callWasm(backend, 'Conv2D', { x: xT, filter: dyT }, { strides: 1, pad: padding, dataFormat: 'NHWC', dilations: [strideHeight, strideWidth] });
  owned.push(grad);
  const dw = transpose(backend, grad, [1, 2, 0, 3]);
  release(backend, ...owned);
  return dw;
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelConfig['kernelFunc'],
};
