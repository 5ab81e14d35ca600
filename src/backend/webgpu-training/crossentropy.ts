import * as tf from '@tensorflow/tfjs';
import { registerGradient, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import type { LossFunction } from '../training-overrides.js';
import { FlatProgram, isWebGPUBackend, type Uniform, type WebGPUBackend } from './webgpu-program.js';

/**
 * tfjs-layers' categorical and sparse categorical crossentropy on probabilities, each as one dispatch forward and one
 * backward on webgpu. The stock losses are 9–12 element-wise kernels forward (clip, one-hot, sum, divide, clip, log,
 * multiply, sum, negate) and about 25 through the gradient tape, all on [batch, classes] tensors: a third of a seed-CNN
 * step's dispatches, and a step is bound by the CPU issuing them (README, "webgpu on an NVIDIA H200").
 *
 * The arithmetic is tfjs-layers', operation for operation, its sums in order over the classes as the cpu backend adds
 * them (p probabilities, t targets, ε the backend's epsilon):
 *   c = clip(p, ε, 1−ε) (sparse only), s = Σ_j c_j, q = c / s, loss = −Σ_j t_j · log(clip(q, ε, 1−ε)),
 * and the gradient is the one tfjs's tape derives from those operations:
 *   g_j = (−dy · t_j) / q_j where ε ≤ q_j ≤ 1−ε (else 0), dc_k = g_k / s − (Σ_j g_j · c_j) / (s · s),
 *   dp_k = dc_k where ε ≤ p_k ≤ 1−ε (sparse; else 0).
 * A NaN probability gives a NaN loss, so divergence is still caught (tfjs's own loss on webgpu need not: it ends in
 * the GPU's log of NaN).
 */

const CROSSENTROPY = 'RunnerCrossentropy';
const CROSSENTROPY_GRAD = 'RunnerCrossentropyGrad';

interface CrossentropyAttrs {
  /** Targets are class indices [n] (sparse) rather than rows of class weights [n, k]. */
  sparse: boolean;
  epsilon: number;
}

const WORKGROUP_SIZE = 64;

/**
 * Shared WGSL: the clip (NaN passes, as tfjs's ClipByValue), c_j (p_j, clipped first for the sparse loss), the row
 * sum s, and t_j read either way.
 */
function commonCode(sparse: boolean): string {
  return `
      fn clipped(v : f32) -> f32 {
        if (isnan(v)) { return v; }
        return clamp(v, uniforms.low, uniforms.high);
      }
      fn cOf(row : i32, j : i32) -> f32 {
        ${sparse ? 'return clipped(Probs[row + j]);' : 'return Probs[row + j];'}
      }
      fn rowSum(row : i32) -> f32 {
        var s = 0.0;
        for (var j = 0; j < uniforms.classes; j++) { s = s + cOf(row, j); }
        return s;
      }
      fn targetOf(i : i32, j : i32) -> f32 {
        ${sparse ? 'let label = i32(floor(Targets[i]));\n        return select(0.0, 1.0, label == j);' : 'return Targets[i * uniforms.classes + j];'}
      }`;
}

abstract class CrossentropyProgram extends FlatProgram {
  override uniforms = 'low : f32, high : f32, classes : i32,';

  constructor(
    name: string,
    outputShape: number[],
    protected readonly sparse: boolean,
  ) {
    super(`${name}_${sparse ? 'sparse' : 'dense'}`, outputShape, WORKGROUP_SIZE);
  }
}

/** Per-sample loss [n] from probabilities [n, k]: one thread per sample. */
class CrossentropyProgramForward extends CrossentropyProgram {
  variableNames = ['Probs', 'Targets'];

  constructor(samples: number, sparse: boolean) {
    super('runnerCrossentropy', [samples], sparse);
  }

  getUserCode(): string {
    return `${commonCode(this.sparse)}
      fn main(index : i32) {
        if (index < uniforms.size) {
          let row = index * uniforms.classes;
          let s = rowSum(row);
          var total = 0.0;
          var broken = false;
          for (var j = 0; j < uniforms.classes; j++) {
            let q = cOf(row, j) / s;
            broken = broken || isnan(q);
            total = total + targetOf(index, j) * log(clipped(q));
          }
          // Explicitly: a GPU's log need not return NaN for NaN (SwiftShader's gives -89), and the loss must.
          setOutputAtIndex(index, select(-total, uniforms.NAN, broken));
        }
      }`;
  }
}

/**
 * dLoss/dProbs [n, k] from the upstream gradient [n]: one thread per probability, each re-reading its row (k² reads
 * per row, nothing for the ten classes of a classifier here).
 */
class CrossentropyProgramBackward extends CrossentropyProgram {
  variableNames = ['Dy', 'Probs', 'Targets'];

  constructor(shape: number[], sparse: boolean) {
    super('runnerCrossentropyGrad', shape, sparse);
  }

  getUserCode(): string {
    return `${commonCode(this.sparse)}
      fn main(index : i32) {
        if (index < uniforms.size) {
          let i = index / uniforms.classes;
          let k = index - i * uniforms.classes;
          let row = i * uniforms.classes;
          let s = rowSum(row);
          let dy = Dy[i];
          var cross = 0.0;
          var own = 0.0;
          for (var j = 0; j < uniforms.classes; j++) {
            let c = cOf(row, j);
            let q = c / s;
            var g = 0.0;
            if (q >= uniforms.low && q <= uniforms.high) { g = (-dy * targetOf(i, j)) / q; }
            cross = cross + g * c;
            if (j == k) { own = g; }
          }
          var grad = own / s + -(cross / (s * s));
          ${this.sparse ? 'let p = Probs[index];\n          if (!(p >= uniforms.low && p <= uniforms.high)) { grad = 0.0; }' : ''}
          setOutputAtIndex(index, grad);
        }
      }`;
  }
}

function uniformsOf(attrs: CrossentropyAttrs, classes: number): Uniform[] {
  return [
    { type: 'float32', data: [attrs.epsilon] },
    { type: 'float32', data: [1 - attrs.epsilon] },
    { type: 'int32', data: [classes] },
  ];
}

function crossentropy(args: { inputs: { probs: TensorInfo; targets: TensorInfo }; backend: WebGPUBackend; attrs: CrossentropyAttrs }): TensorInfo {
  const { probs, targets } = args.inputs;
  const [samples, classes] = probs.shape as [number, number];
  const program = new CrossentropyProgramForward(samples, args.attrs.sparse);
  return args.backend.runWebGPUProgram(program, [probs, targets], 'float32', uniformsOf(args.attrs, classes));
}

function crossentropyGrad(args: { inputs: { dy: TensorInfo; probs: TensorInfo; targets: TensorInfo }; backend: WebGPUBackend; attrs: CrossentropyAttrs }): TensorInfo {
  const { dy, probs, targets } = args.inputs;
  const program = new CrossentropyProgramBackward([...probs.shape], args.attrs.sparse);
  return args.backend.runWebGPUProgram(program, [dy, probs, targets], 'float32', uniformsOf(args.attrs, probs.shape[1]!));
}

export const crossentropyKernels: readonly KernelConfig[] = [
  { kernelName: CROSSENTROPY, backendName: 'webgpu', kernelFunc: crossentropy as unknown as KernelConfig['kernelFunc'] },
  { kernelName: CROSSENTROPY_GRAD, backendName: 'webgpu', kernelFunc: crossentropyGrad as unknown as KernelConfig['kernelFunc'] },
];

/** Registers the forward kernel's gradient (the kernels themselves are in `crossentropyKernels`). */
export function registerCrossentropyGradient(): void {
  registerGradient({
    kernelName: CROSSENTROPY,
    inputsToSave: ['probs', 'targets'],
    gradFunc: (dy, saved, attrs) => {
      const [probs, targets] = saved as [tf.Tensor, tf.Tensor];
      return {
        probs: () => tf.engine().runKernel(CROSSENTROPY_GRAD, { dy: dy as tf.Tensor, probs, targets }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor,
        targets: () => tf.zerosLike(targets),
      };
    },
  });
}

/**
 * The loss `stock` (tfjs-layers' function for `sparse` or categorical crossentropy) as the fused kernels, where they
 * apply: on webgpu, for float32 probabilities [n, k] and targets [n] (sparse) or [n, k]. Elsewhere `stock` itself.
 */
export function fusedCrossentropy(sparse: boolean, stock: LossFunction): LossFunction {
  return (targets, predictions) => {
    const backend = tf.backend();
    const shapesFit =
      predictions.rank === 2 && predictions.size > 0 && predictions.dtype === 'float32' && targets.dtype === 'float32' &&
      (sparse ? targets.rank === 1 && targets.shape[0] === predictions.shape[0] : tf.util.arraysEqual(targets.shape, predictions.shape));
    if (!isWebGPUBackend(backend) || !shapesFit) return stock(targets, predictions);
    const attrs: CrossentropyAttrs = { sparse, epsilon: backend.epsilon() };
    return tf.engine().runKernel(CROSSENTROPY, { probs: predictions, targets }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  };
}
