/**
 * One element-wise optimizer update as one WebGPU dispatch, in tfjs-backend-webgpu's own program model.
 *
 * A program writes one buffer (tfjs programs have one output): a state buffer (a moment, an accumulator) or the
 * variable itself. It writes in place: `runWebGPUProgram` takes the output TensorInfo, the output is bound
 * `read_write`, so the program reads the old value from `result[index]` and overwrites it, without allocating a
 * tensor or going through `Variable.assign`. Scalars (learning rate, β^t…) travel in the program's uniform buffer,
 * never as tensors, so a step creates no tensor from a JS number.
 *
 * In place is used only where nothing else can see the buffer: the data's refCount is 1 (only the variable holds
 * it: not a `tf.clone` of it, such as the early-stopping snapshot of the best weights, not a tensor it was `assign`ed
 * from, not the gradient), no read of it is in flight, and the buffer is tfjs's own (not a zero-copy external
 * GPUBuffer). Otherwise the update reads the old value as an input, writes a new tensor
 * and assigns it to the variable, which leaves the other holders untouched.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { computeDispatch, flatDispatchLayout } from './webgpu-program.js';

/** What one dispatch computes: `result[index] = expr`, `expr` over `old` and the inputs' lowercased names. */
export interface UpdateSpec {
  /** Part of the pipeline cache key; one per distinct `expr`. */
  key: string;
  /** Read-only inputs (same size as the output), one capital letter each: `G` is read as `g` in `expr`. */
  inputs: readonly string[];
  /** f32 uniforms, read as `uniforms.NAME` in `expr`; their values come with each dispatch. */
  uniforms: readonly string[];
  /** WGSL f32 expression; `old` is the value being replaced. */
  expr: string;
}

const WORKGROUP_SIZE: [number, number, number] = [256, 1, 1];

class FusedUpdateProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms: string;
  workgroupSize: [number, number, number] = [...WORKGROUP_SIZE];
  size = true;

  constructor(
    private readonly spec: UpdateSpec,
    size: number,
    private readonly inPlace: boolean,
  ) {
    this.outputShape = [size];
    this.variableNames = inPlace ? [...spec.inputs] : ['Old', ...spec.inputs];
    this.uniforms = spec.uniforms.map((name) => `${name} : f32,`).join(' ');
    this.dispatchLayout = flatDispatchLayout(this.outputShape) as { x: number[] };
    this.dispatch = computeDispatch(this.dispatchLayout, this.outputShape, this.workgroupSize);
    this.shaderKey = `fusedOptimizer_${spec.key}_${inPlace ? 'inPlace' : 'copy'}`;
  }

  getUserCode(): string {
    const reads = this.spec.inputs.map((name) => `let ${name.toLowerCase()} = ${name}[index];`).join('\n          ');
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let old = ${this.inPlace ? 'result[index]' : 'Old[index]'};
          ${reads}
          setOutputAtIndex(index, ${this.spec.expr});
        }
      }
    `;
  }
}

export function isWebGPUBackend(backend: tf.KernelBackend): backend is WebGPUBackend {
  return tf.getBackend() === 'webgpu' && typeof (backend as Partial<WebGPUBackend>).runWebGPUProgram === 'function';
}

/** Whether every tensor's data lives in this backend (data of another backend moves only through tfjs kernels). */
export function allOnBackend(backend: WebGPUBackend, tensors: readonly tf.Tensor[]): boolean {
  return tensors.every((t) => t.dtype === 'float32' && backend.tensorMap.has(t.dataId));
}

/** Reads in flight per dataId (on the backends `watchReads` wrapped). */
const pendingReads = new WeakMap<object, number>();
const watchedBackends = new WeakSet<WebGPUBackend>();

/**
 * Counts the backend's reads in flight. A read copies the buffer in queue order (so it never sees a later in-place
 * write), but when it resolves it caches the values it got on the CPU next to the buffer; an in-place write made
 * meanwhile would leave that cache stale for every later read. Updates to a buffer being read are written as copies.
 */
function watchReads(backend: WebGPUBackend): void {
  if (watchedBackends.has(backend)) return;
  watchedBackends.add(backend);
  const read = backend.read.bind(backend);
  backend.read = async (dataId: object) => {
    pendingReads.set(dataId, (pendingReads.get(dataId) ?? 0) + 1);
    try {
      return await read(dataId);
    } finally {
      const left = pendingReads.get(dataId)! - 1;
      if (left > 0) pendingReads.set(dataId, left);
      else pendingReads.delete(dataId);
    }
  };
}

/** How the updates of this process were written, for tests and measurements. */
export const updateCounts = { inPlace: 0, copied: 0 };

/** Runs `spec` once: `target` gets `expr`, with `inputs` bound in `spec.inputs` order and `values` as uniforms. */
export function runUpdate(
  backend: WebGPUBackend,
  spec: UpdateSpec,
  target: tf.Variable,
  inputs: readonly tf.Tensor[],
  values: readonly number[],
): void {
  const size = target.size;
  const flat = (t: tf.Tensor): tf.TensorInfo => ({ dataId: t.dataId, shape: [size], dtype: 'float32' });
  const uniforms = values.map((value) => ({ type: 'float32', data: [value] }));
  watchReads(backend);
  const data = backend.tensorMap.get(target.dataId) as { refCount: number; external?: boolean; values: unknown };
  if (data.refCount === 1 && !data.external && !pendingReads.has(target.dataId)) {
    const program = new FusedUpdateProgram(spec, size, true);
    backend.runWebGPUProgram(program, inputs.map(flat), 'float32', uniforms, flat(target));
    // A read (`await t.data()`) caches the values on the CPU next to the buffer; they are stale now.
    data.values = null;
    updateCounts.inPlace++;
  } else {
    const program = new FusedUpdateProgram(spec, size, false);
    const out = backend.runWebGPUProgram(program, [flat(target), ...inputs.map(flat)], 'float32', uniforms);
    const next = tf.engine().makeTensorFromTensorInfo({ dataId: out.dataId, shape: target.shape, dtype: 'float32' });
    target.assign(next);
    next.dispose();
    updateCounts.copied++;
  }
}

/** `old·a + g·b`: an exponential moving average (Adam's m, RMSprop's mean gradient); momentum's `old·m + g` with b = 1. */
export const EMA: UpdateSpec = { key: 'ema', inputs: ['G'], uniforms: ['a', 'b'], expr: 'old * uniforms.a + g * uniforms.b' };

/** `old·a + g²·b`: Adam's v, RMSprop's mean square. */
export const EMA_SQUARE: UpdateSpec = {
  key: 'emaSquare',
  inputs: ['G'],
  uniforms: ['a', 'b'],
  expr: 'old * uniforms.a + (g * g) * uniforms.b',
};

/** `c·x + old`: SGD (x = gradient, c = −lr), momentum (x = accumulator), RMSprop (x = momentum, c = −1). */
export const AXPY: UpdateSpec = { key: 'axpy', inputs: ['X'], uniforms: ['c'], expr: 'uniforms.c * x + old' };
