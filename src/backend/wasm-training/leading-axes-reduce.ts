import { backend_util, getKernel, Mean, Sum, util, type KernelConfig, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapView } from './wasm-calls.js';

/**
 * Sum and Mean over the leading axes of a float32 tensor (batch normalization's per-channel statistics and
 * their gradients: axes [0, 1, 2] of NHWC) as column sums in one contiguous pass. wasm 4.22 reduces only
 * innermost axes, so it first transposes the whole activation to bring the channels forward. Every other
 * reduction goes to wasm's own kernel.
 */
function leadingAxesReduce(kernelName: typeof Sum | typeof Mean): KernelConfig {
  const wasmKernel = getKernel(kernelName, 'wasm');
  if (!wasmKernel) throw new Error(`wasm kernel ${kernelName} is not registered`);
  const original = wasmKernel.kernelFunc;
  const kernelFunc = ({ inputs, attrs, backend }: { inputs: { x: TensorInfo }; attrs: { axis: number | number[]; keepDims: boolean }; backend: BackendWasm }): TensorInfo => {
    const { x } = inputs;
    const axes = [...util.parseAxisParam(attrs.axis, x.shape)].sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((axis, i) => axis === i);
    const rows = util.sizeFromShape(x.shape.slice(0, axes.length));
    if (x.dtype !== 'float32' || !leading || rows === 0) return original({ inputs, attrs: attrs as unknown as NamedAttrMap, backend }) as TensorInfo;
    const kept = x.shape.slice(axes.length);
    const outShape = attrs.keepDims ? backend_util.expandShapeToKeepDim(kept, axes) : kept;
    const out = backend.makeOutput(outShape, 'float32');
    const sums = new Float64Array(util.sizeFromShape(kept));
    const values = heapView(backend, x);
    const width = sums.length;
    for (let row = 0, at = 0; row < rows; row++) for (let c = 0; c < width; c++, at++) sums[c] += values[at]!;
    const scale = kernelName === Mean ? 1 / rows : 1;
    heapView(backend, out).set(scale === 1 ? sums : sums.map((s) => s * scale));
    return out;
  };
  // wasm binds its kernel to the module when the backend starts, through setupFunc: keep it, or the fallback has nothing to call.
  return { kernelName, backendName: 'wasm', setupFunc: wasmKernel.setupFunc, kernelFunc: kernelFunc as unknown as KernelConfig['kernelFunc'] };
}

export const leadingAxesSum = (): KernelConfig => leadingAxesReduce(Sum);
export const leadingAxesMean = (): KernelConfig => leadingAxesReduce(Mean);
