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
import { FlatProgram, type WebGPUBackend } from './webgpu-program.js';

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

class FusedUpdateProgram extends FlatProgram {
  variableNames: string[];

  constructor(
    private readonly spec: UpdateSpec,
    size: number,
    private readonly inPlace: boolean,
  ) {
    super(`fusedOptimizer_${spec.key}_${inPlace ? 'inPlace' : 'copy'}`, [size]);
    this.variableNames = inPlace ? [...spec.inputs] : ['Old', ...spec.inputs];
    this.uniforms = spec.uniforms.map((name) => `${name} : f32,`).join(' ');
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

/** Reads in flight per dataId (on the backends `watchReads` wrapped). */
const pendingReads = new WeakMap<object, number>();
const watchedBackends = new WeakSet<WebGPUBackend>();

/**
 * Counts the backend's reads in flight. A read copies the buffer in queue order (so it never sees a later in-place
 * write), but when it resolves it caches the values it got on the CPU next to the buffer; an in-place write made
 * meanwhile would leave that cache stale for every later read. Updates to a buffer being read are written as copies.
 */
export function watchReads(backend: WebGPUBackend): void {
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
  checkValues(spec, values);
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

/** One update of a chain: `target` gets `spec.expr` over `inputs`; an input that is an earlier step's target reads its new value. */
export interface UpdateStep {
  spec: UpdateSpec;
  target: tf.Variable;
  inputs: readonly tf.Tensor[];
  values: readonly number[];
}

/** The backend's members a chain records through: its own command encoder and pass, so that dispatches stay in order. */
interface EncoderState {
  device: GPUDevice;
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  commandQueueOwnedIds: WeakSet<object>;
  dispatchCountInPass: number;
  activeTimers: unknown[] | null;
  makeUniforms(uniforms: { type: string; data: number[] }[]): GPUBufferBinding;
}

const CHAIN_WORKGROUP = 256;
/** WebGPU's guaranteed workgroups per dimension; more go to y. */
const MAX_WORKGROUPS_X = 65535;
/** WebGPU's guaranteed storage buffers per shader stage (tfjs asks the device for no more). */
const MAX_STORAGE_BUFFERS = 8;

const chainPipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

/** How many chains ran as one dispatch, for tests and measurements. */
export const chainCounts = { fused: 0 };

function checkValues(spec: UpdateSpec, values: readonly number[]): void {
  // A missing or extra value would shift every later uniform without any error from the device.
  if (values.length !== spec.uniforms.length) throw new Error(`${spec.key} takes ${spec.uniforms.length} uniforms, got ${values.length}`);
}

/**
 * Runs `steps` (element-wise updates of same-sized variables, such as Adam's m, v and the variable) as one dispatch
 * in which every thread updates one element of each target in turn, instead of one dispatch per step: a step on the
 * GPU is bound by the CPU issuing dispatches. Each expression is the same f32 arithmetic as its own dispatch would
 * compute, so the numbers do not change. It needs every target writable in place (see `runUpdate`) and tfjs not
 * profiling (its timers wrap tfjs's own programs only); otherwise the steps run one by one.
 */
export function runUpdates(backend: WebGPUBackend, steps: readonly UpdateStep[]): void {
  watchReads(backend);
  for (const step of steps) checkValues(step.spec, step.values);
  const encoder = backend as unknown as EncoderState;
  const targets = steps.map((step) => step.target);
  // A step reads another's new value only if that step came first: a later target would be read before it is set.
  const ordered = steps.every((step, k) => step.inputs.every((input) => !targets.includes(input as tf.Variable) || targets.indexOf(input as tf.Variable) < k));
  if (!ordered) throw new Error(`runUpdates: a step reads the target of a later step (${steps.map((s) => s.spec.key).join(', ')})`);
  const reads = [...new Set(steps.flatMap((step) => step.inputs).filter((input) => !targets.includes(input as tf.Variable)))];
  const size = targets[0]!.size;
  const writable = targets.every((target) => {
    const data = backend.tensorMap.get(target.dataId) as { refCount: number; external?: boolean };
    return target.size === size && data.refCount === 1 && !data.external && !pendingReads.has(target.dataId);
  });
  if (!writable || size === 0 || encoder.activeTimers != null || targets.length + reads.length > MAX_STORAGE_BUFFERS || new Set(targets).size !== targets.length) {
    for (const step of steps) runUpdate(backend, step.spec, step.target, step.inputs, step.values);
    return;
  }
  const key = chainKey(steps, reads);
  let pipelines = chainPipelines.get(encoder.device);
  if (!pipelines) chainPipelines.set(encoder.device, (pipelines = new Map()));
  let pipeline = pipelines.get(key);
  if (!pipeline) {
    const module = encoder.device.createShaderModule({ code: chainShader(steps, reads), label: `runnerChain_${key}` });
    pipeline = encoder.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    pipelines.set(key, pipeline);
  }
  const buffers = [...targets, ...reads].map((tensor) => {
    backend.uploadToGPU(tensor.dataId);
    encoder.commandQueueOwnedIds.add(tensor.dataId);
    return (backend.tensorMap.get(tensor.dataId) as { resource: GPUBuffer }).resource;
  });
  const uniforms = encoder.makeUniforms([
    { type: 'int32', data: [size] },
    ...steps.flatMap((step) => step.values.map((value) => ({ type: 'float32', data: [value] }))),
  ]);
  const bindGroup = encoder.device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: uniforms }, ...buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } }))],
  });
  backend.ensureCommandEncoderReady();
  encoder.computePassEncoder ??= encoder.commandEncoder!.beginComputePass({});
  const groups = Math.ceil(size / CHAIN_WORKGROUP);
  const x = Math.min(groups, MAX_WORKGROUPS_X);
  encoder.computePassEncoder.setPipeline(pipeline);
  encoder.computePassEncoder.setBindGroup(0, bindGroup);
  encoder.computePassEncoder.dispatchWorkgroups(x, Math.ceil(groups / x));
  if (++encoder.dispatchCountInPass >= (tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number)) {
    backend.endComputePassEncoder();
    backend.submitQueue();
  }
  for (const target of targets) (backend.tensorMap.get(target.dataId) as { values: unknown }).values = null;
  updateCounts.inPlace += steps.length;
  chainCounts.fused++;
}

/** Which bindings each step reads: an earlier target's new value (`t<k>`) or a read-only buffer (`r<k>`). */
function chainKey(steps: readonly UpdateStep[], reads: readonly tf.Tensor[]): string {
  const targets = steps.map((step) => step.target);
  return steps
    .map((step) => `${step.spec.key}(${step.inputs.map((input) => (targets.includes(input as tf.Variable) ? `t${targets.indexOf(input as tf.Variable)}` : `r${reads.indexOf(input)}`)).join(',')})`)
    .join(';');
}

function chainShader(steps: readonly UpdateStep[], reads: readonly tf.Tensor[]): string {
  const targets = steps.map((step) => step.target);
  const fields = steps.flatMap((step, k) => step.spec.uniforms.map((name) => `s${k}_${name} : f32,`));
  const bindings = [
    ...targets.map((_, k) => `@group(0) @binding(${k + 1}) var<storage, read_write> T${k} : array<f32>;`),
    ...reads.map((_, k) => `@group(0) @binding(${targets.length + k + 1}) var<storage, read> R${k} : array<f32>;`),
  ];
  const body = steps.map((step, k) => {
    const locals = step.spec.inputs.map((name, i) => {
      const input = step.inputs[i]!;
      const from = targets.includes(input as tf.Variable) ? `t${targets.indexOf(input as tf.Variable)}` : `R${reads.indexOf(input)}[index]`;
      return `let ${name.toLowerCase()} = ${from};`;
    });
    const expr = step.spec.expr.replace(/uniforms\.(\w+)/g, `chainUniforms.s${k}_$1`);
    return `  { let old = T${k}[index]; ${locals.join(' ')} t${k} = ${expr}; T${k}[index] = t${k}; }`;
  });
  return `
struct Uniforms { size : i32, ${fields.join(' ')} };
@group(0) @binding(0) var<uniform> chainUniforms : Uniforms;
${bindings.join('\n')}
@compute @workgroup_size(${CHAIN_WORKGROUP})
fn main(@builtin(global_invocation_id) id : vec3<u32>, @builtin(num_workgroups) groups : vec3<u32>) {
  let index = i32(id.x + id.y * groups.x * ${CHAIN_WORKGROUP}u);
  if (index >= chainUniforms.size) { return; }
  ${targets.map((_, k) => `var t${k} : f32;`).join(' ')}
${body.join('\n')}
}`;
}
