import * as tf from '@tensorflow/tfjs';
import { getGradient, registerGradient, Relu, Softmax, type GradConfig, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import { fusableBackend } from './optimizer-common.js';
import { FlatProgram, type WebGPUBackend } from './webgpu-program.js';

/**
 * The gradients of ReLU and softmax as one dispatch each on webgpu, where tfjs's own take 2 (step, multiply) and 4
 * (multiply, sum, multiply, subtract): they run once per activation layer per step, and a step is bound by the CPU
 * issuing dispatches. Each computes the stock formula with the same f32 operations; off webgpu, and for shapes they
 * do not cover, the stock gradient runs.
 */

const RELU_GRAD = 'RunnerReluGrad';
const SOFTMAX_GRAD = 'RunnerSoftmaxGrad';

/** dy · step(x): step is 1 above 0, else 0, and NaN for NaN (as tfjs's Step), so −0 and NaN come out as stock. */
class ReluGradProgram extends FlatProgram {
  variableNames = ['Dy', 'X'];

  constructor(shape: number[]) {
    super('runnerReluGrad', shape);
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let x = X[index];
          var step = select(0.0, 1.0, x > 0.0);
          if (isnan(x)) { step = uniforms.NAN; }
          setOutputAtIndex(index, Dy[index] * step);
        }
      }`;
  }
}

/** dy·y − (Σ_row dy·y)·y over the last axis, each thread summing its own row. */
class SoftmaxGradProgram extends FlatProgram {
  variableNames = ['Dy', 'Y'];
  override uniforms = 'columns : i32,';

  constructor(shape: number[]) {
    super('runnerSoftmaxGrad', shape);
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let row = (index / uniforms.columns) * uniforms.columns;
          var total = 0.0;
          for (var j = 0; j < uniforms.columns; j++) { total = total + Dy[row + j] * Y[row + j]; }
          setOutputAtIndex(index, Dy[index] * Y[index] - total * Y[index]);
        }
      }`;
  }
}

function reluGrad(args: { inputs: { dy: TensorInfo; x: TensorInfo }; backend: WebGPUBackend }): TensorInfo {
  const { dy, x } = args.inputs;
  return args.backend.runWebGPUProgram(new ReluGradProgram([...x.shape]), [dy, x], 'float32');
}

function softmaxGrad(args: { inputs: { dy: TensorInfo; y: TensorInfo }; backend: WebGPUBackend }): TensorInfo {
  const { dy, y } = args.inputs;
  const columns = y.shape[y.shape.length - 1]!;
  return args.backend.runWebGPUProgram(new SoftmaxGradProgram([...y.shape]), [dy, y], 'float32', [{ type: 'int32', data: [columns] }]);
}

export const activationGradientKernels: readonly KernelConfig[] = [
  { kernelName: RELU_GRAD, backendName: 'webgpu', kernelFunc: reluGrad as unknown as KernelConfig['kernelFunc'] },
  { kernelName: SOFTMAX_GRAD, backendName: 'webgpu', kernelFunc: softmaxGrad as unknown as KernelConfig['kernelFunc'] },
];

/** Non-empty float32 tensors already on webgpu, as the fused optimizers require of theirs. */
function onWebGPU(tensors: tf.Tensor[]): boolean {
  return tensors.every((t) => t.size > 0) && fusableBackend(tensors) !== undefined;
}

/**
 * Registers the gradients of Relu and Softmax that use `activationGradientKernels`, the stock ones kept as the
 * fallback. Once per process: a second call would wrap the overrides themselves.
 */
export function registerActivationGradients(): void {
  const stockRelu = getGradient(Relu);
  const stockSoftmax = getGradient(Softmax);
  if (!stockRelu || !stockSoftmax) throw new Error('tfjs registers the gradients of Relu and Softmax on import: import @tensorflow/tfjs first');
  registerGradient(override(stockRelu, (dy, [x]) => (onWebGPU([dy, x!]) ? { x: () => tf.engine().runKernel(RELU_GRAD, { dy, x: x! }) as tf.Tensor } : undefined)));
  registerGradient(
    override(stockSoftmax, (dy, [y], attrs) => {
      const dim = (attrs as { dim: number }).dim;
      const lastAxis = dim === -1 || dim === y!.rank - 1;
      return lastAxis && onWebGPU([dy, y!]) ? { logits: () => tf.engine().runKernel(SOFTMAX_GRAD, { dy, y: y! }) as tf.Tensor } : undefined;
    }),
  );
}

type Gradients = ReturnType<GradConfig['gradFunc']>;

/** `stock` with `fused` tried first: fused returns undefined where it does not apply. */
function override(stock: GradConfig, fused: (dy: tf.Tensor, saved: tf.Tensor[], attrs: tf.NamedAttrMap) => Gradients | undefined): GradConfig {
  return {
    ...stock,
    gradFunc: (dy, saved, attrs) => fused(dy as tf.Tensor, saved, attrs) ?? stock.gradFunc(dy, saved, attrs),
  };
}
