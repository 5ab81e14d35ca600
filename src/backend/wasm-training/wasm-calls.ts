import { getKernel, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Calls another wasm kernel directly, below the engine: the result is an untracked TensorInfo that the
 * caller frees with `release`. This is how the training kernels reuse wasm's XNNPACK-backed Conv2D
 * without the engine's bookkeeping (or its gradient tape) for intermediates.
 */
export function callWasm(backend: BackendWasm, kernelName: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
  const kernel = getKernel(kernelName, 'wasm');
  if (!kernel) throw new Error(`wasm kernel ${kernelName} is not registered`);
  return kernel.kernelFunc({ inputs, attrs, backend }) as TensorInfo;
}

export function release(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** The float32 values of a wasm tensor, as a view into the wasm heap (valid until the next allocation). */
export function heapView(backend: BackendWasm, info: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

export function transpose(backend: BackendWasm, x: TensorInfo, perm: number[]): TensorInfo {
  return callWasm(backend, 'Transpose', { x }, { perm });
}
