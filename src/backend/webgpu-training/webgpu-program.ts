import * as tf from '@tensorflow/tfjs';
import { getKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

/**
 * What the runner's WebGPU kernels share. Only types come from `@tensorflow/tfjs-backend-webgpu`: the package
 * registers its backend as a side effect of being evaluated, and only when `navigator.gpu` already exists, so a
 * value import here would evaluate it too early whenever this folder is imported before Dawn is installed, and the
 * backend would silently never exist. The two dispatch helpers below are therefore the package's own
 * `webgpu_util.computeDispatch` and `flatDispatchLayout`, restated.
 */
export type { WebGPUBackend, WebGPUProgram };

/** A program-defined uniform, in the order of the program's `uniforms` string (`runWebGPUProgram`'s fourth argument). */
export type Uniform = { type: 'int32' | 'uint32' | 'float32'; data: number[] };

export type DispatchLayout = WebGPUProgram['dispatchLayout'];

/** Workgroups along x, y and z: each dimension's extent (the product of `layout`'s axes of `shape`) over the work one workgroup covers. */
export function computeDispatch(layout: DispatchLayout, shape: readonly number[], workgroupSize: [number, number, number], elementsPerThread: [number, number, number] = [1, 1, 1]): [number, number, number] {
  const extent = (axes: number[] | undefined) => (axes ?? []).reduce((product, axis) => product * shape[axis]!, 1);
  return [
    Math.ceil(extent(layout.x) / (workgroupSize[0] * elementsPerThread[0])),
    layout.y ? Math.ceil(extent(layout.y) / (workgroupSize[1] * elementsPerThread[1])) : 1,
    layout.z ? Math.ceil(extent(layout.z) / (workgroupSize[2] * elementsPerThread[2])) : 1,
  ];
}

/** Every axis along x: the shader's `main(index)` then gets one flat output index per thread. */
export function flatDispatchLayout(shape: readonly number[]): DispatchLayout {
  return { x: shape.map((_, axis) => axis) };
}

/**
 * A program with one thread per output element: `main(index)` gets the flat output index, `uniforms.size` the
 * element count. Subclasses name their inputs, their uniforms and their code.
 */
export abstract class FlatProgram implements WebGPUProgram {
  abstract variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: DispatchLayout;
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size = true;
  uniforms?: string;

  constructor(shaderKey: string, outputShape: number[], workgroupSize = 256) {
    this.shaderKey = shaderKey;
    this.outputShape = outputShape;
    this.workgroupSize = [workgroupSize, 1, 1];
    this.dispatchLayout = flatDispatchLayout(outputShape);
    this.dispatch = computeDispatch(this.dispatchLayout, outputShape, this.workgroupSize);
  }

  abstract getUserCode(): string;
}

/** tfjs's active backend is webgpu, and `backend` is it. */
export function isWebGPUBackend(backend: tf.KernelBackend): backend is WebGPUBackend {
  return tf.getBackend() === 'webgpu' && typeof (backend as Partial<WebGPUBackend>).runWebGPUProgram === 'function';
}

/** Every tensor is float32 and its data lives in this backend (data of another backend moves only through tfjs kernels). */
export function allOnBackend(backend: WebGPUBackend, tensors: readonly tf.Tensor[]): boolean {
  return tensors.every((t) => t.dtype === 'float32' && backend.tensorMap.has(t.dataId));
}

const stock = new Map<string, KernelConfig>();

/** Remembers webgpu's own kernel under `kernelName` (if it has one) before the runner replaces it. First capture wins. */
export function captureStockKernel(kernelName: string): KernelConfig | undefined {
  if (!stock.has(kernelName)) {
    const config = getKernel(kernelName, 'webgpu');
    if (config) stock.set(kernelName, config);
  }
  return stock.get(kernelName);
}

/** webgpu's own kernel, for the cases a replacement leaves to it. */
export function stockKernel(kernelName: string): KernelConfig {
  const config = stock.get(kernelName);
  if (!config) throw new Error(`webgpu's own ${kernelName} kernel was not captured: call registerWebGpuTrainingKernels() after importing @tensorflow/tfjs-backend-webgpu`);
  return config;
}
