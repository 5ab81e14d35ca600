import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import type { AddTotals } from '../training-overrides.js';
import { isWebGPUBackend, type WebGPUBackend, type WebGPUProgram } from './webgpu-program.js';

/**
 * A batch's summed loss and correct predictions added to the epoch's running totals in one dispatch, where the
 * stock ops take seven (sum, cast, argMax, equal, sum, and one add for each total). One workgroup: each thread sums
 * a stride of the samples, then a tree through workgroup memory (the same order every time).
 */

const ADD_TOTALS = 'RunnerAddTotals';
const THREADS = 256;

class AddTotalsProgram implements WebGPUProgram {
  variableNames = ['Totals', 'PerSample', 'Predictions', 'Targets'];
  outputShape = [2];
  shaderKey: string;
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number] = [1, 1, 1];
  uniforms = 'samples : i32, classes : i32,';
  workgroupSize: [number, number, number] = [THREADS, 1, 1];

  constructor(private readonly sparse: boolean) {
    this.shaderKey = `runnerAddTotals_${sparse ? 'sparse' : 'dense'}`;
  }

  getUserCode(): string {
    // The first largest value, as argMax picks it.
    const argMax = (array: string, row: string) => `
          var best_${array} = 0;
          for (var j = 1; j < uniforms.classes; j++) {
            if (${array}[${row} + j] > ${array}[${row} + best_${array}]) { best_${array} = j; }
          }`;
    return `
      var<workgroup> lossSums : array<f32, ${THREADS}>;
      var<workgroup> correctSums : array<f32, ${THREADS}>;
      fn main(index : i32) {
        let t = i32(localIndex);
        var loss = 0.0;
        var correct = 0.0;
        for (var i = t; i < uniforms.samples; i = i + ${THREADS}) {
          loss = loss + PerSample[i];
          let row = i * uniforms.classes;
          ${argMax('Predictions', 'row')}
          ${this.sparse ? 'let label = i32(Targets[i]);' : `${argMax('Targets', 'row')}\n          let label = best_Targets;`}
          if (best_Predictions == label) { correct = correct + 1.0; }
        }
        lossSums[t] = loss;
        correctSums[t] = correct;
        workgroupBarrier();
        for (var stride = ${THREADS / 2}; stride > 0; stride = stride / 2) {
          if (t < stride) {
            lossSums[t] = lossSums[t] + lossSums[t + stride];
            correctSums[t] = correctSums[t] + correctSums[t + stride];
          }
          workgroupBarrier();
        }
        if (t == 0) {
          setOutputAtIndex(0, Totals[0] + lossSums[0]);
          setOutputAtIndex(1, Totals[1] + correctSums[0]);
        }
      }`;
  }
}

function addTotals(args: { inputs: { totals: TensorInfo; perSample: TensorInfo; predictions: TensorInfo; targets: TensorInfo }; backend: WebGPUBackend }): TensorInfo {
  const { totals, perSample, predictions, targets } = args.inputs;
  const [samples, classes] = predictions.shape as [number, number];
  const uniforms = [
    { type: 'int32', data: [samples] },
    { type: 'int32', data: [classes] },
  ];
  return args.backend.runWebGPUProgram(new AddTotalsProgram(targets.shape.length === 1), [totals, perSample, predictions, targets], 'float32', uniforms);
}

export const addTotalsKernel: KernelConfig = { kernelName: ADD_TOTALS, backendName: 'webgpu', kernelFunc: addTotals as unknown as KernelConfig['kernelFunc'] };

/** `stock` as the one-dispatch kernel on webgpu, for float32 predictions [n, k] and matching targets; `stock` elsewhere. */
export function fusedAddTotals(stock: AddTotals): AddTotals {
  return (totals, perSample, predictions, targets) => {
    const [samples] = predictions.shape;
    const fits =
      predictions.rank === 2 && predictions.size > 0 && [totals, perSample, predictions, targets].every((t) => t.dtype === 'float32') &&
      totals.size === 2 && perSample.rank === 1 && perSample.shape[0] === samples &&
      (targets.rank === 1 ? targets.shape[0] === samples : tf.util.arraysEqual(targets.shape, predictions.shape));
    if (!isWebGPUBackend(tf.backend()) || !fits) return stock(totals, perSample, predictions, targets);
    return tf.engine().runKernel(ADD_TOTALS, { totals, perSample, predictions, targets }) as tf.Tensor;
  };
}
