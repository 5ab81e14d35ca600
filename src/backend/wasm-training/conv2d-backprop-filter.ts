import { backend_util, Conv2DBackpropFilter, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callWasm, heapView, release, transpose } from './wasm-calls.js';

/**
 * dW[a,b,ci,co] = Σ_{n,i,j} x[n, i·s + a - padTop, j·s + b - padLeft, ci] · dy[n,i,j,co]
 *
 * which is a forward convolution of x with dy as the filter, once the batch axis plays the role of
 * input channels: input xᵀ = [ci, h, w, n], filter dyᵀ = [ho, wo, n, co], dilation = the forward stride,
 * output [ci, kh, kw, co]. That runs on XNNPACK instead of a scalar loop.
 */
function conv2DBackpropFilterByConv({ inputs, attrs, backend }: { inputs: { x: TensorInfo; dy: TensorInfo }; attrs: Record<string, unknown>; backend: BackendWasm }): TensorInfo {
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

/**
 * The same gradient as one matrix product: patchesᵀ [kh·kw·ci, n·ho·wo] × dy [n·ho·wo, co], with the
 * patch matrix gathered in JS already transposed so XNNPACK's matMul needs no transposes.
 */
function conv2DBackpropFilterByMatMul({ inputs, attrs, backend }: { inputs: { x: TensorInfo; dy: TensorInfo }; attrs: Record<string, unknown>; backend: BackendWasm }): TensorInfo {
  const { x, dy } = inputs;
  const { strides, pad, dimRoundingMode, filterShape } = attrs as { strides: [number, number] | number; pad: 'same'; dimRoundingMode?: 'floor'; filterShape: [number, number, number, number] };
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  const positions = batchSize * outHeight * outWidth;
  const taps = filterHeight * filterWidth * inChannels;
  const patches = backend.makeOutput([taps, positions], 'float32');
  const cols = heapView(backend, patches);
  const source = heapView(backend, x);
  let row = 0;
  for (let a = 0; a < filterHeight; a++) {
    for (let b = 0; b < filterWidth; b++) {
      for (let c = 0; c < inChannels; c++, row++) {
        let at = row * positions;
        for (let n = 0; n < batchSize; n++) {
          for (let i = 0; i < outHeight; i++) {
            const h = i * strideHeight - top + a;
            const inside = h >= 0 && h < inHeight;
            for (let j = 0; j < outWidth; j++, at++) {
              const w = j * strideWidth - left + b;
              cols[at] = inside && w >= 0 && w < inWidth ? source[((n * inHeight + h) * inWidth + w) * inChannels + c]! : 0;
            }
          }
        }
      }
    }
  }
  const dy2d = callWasm(backend, 'Reshape', { x: dy }, { shape: [positions, outChannels] });
  const product = callWasm(backend, 'BatchMatMul', { a: patches, b: dy2d }, { transposeA: false, transposeB: false });
  const dw = callWasm(backend, 'Reshape', { x: product }, { shape: filterShape });
  release(backend, patches, dy2d, product);
  return dw;
}

/**
 * Measured on the seed CNN (bench/profile-step.ts): with few input channels (a first layer on grey or RGB
 * images) the convolution form leaves XNNPACK almost nothing per output pixel and the matMul form is ~4×
 * faster (1.4 vs 5.3 ms); with 32 channels the convolution form wins (12.5 vs 14.8 ms).
 */
const FEW_INPUT_CHANNELS = 8;

function conv2DBackpropFilter(args: { inputs: { x: TensorInfo; dy: TensorInfo }; attrs: Record<string, unknown>; backend: BackendWasm }): TensorInfo {
  const inChannels = args.inputs.x.shape[3]!;
  return inChannels < FEW_INPUT_CHANNELS ? conv2DBackpropFilterByMatMul(args) : conv2DBackpropFilterByConv(args);
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelConfig['kernelFunc'],
};
