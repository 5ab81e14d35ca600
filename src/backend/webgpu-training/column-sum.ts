import { backend_util, Sum, util, type KernelConfig, type SumAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import { FlatProgram, stockKernel, type WebGPUBackend } from './webgpu-program.js';

/**
 * Sum over every axis but the last, for few rows: a dense layer's bias gradient ([batch, units] → [units]). tfjs's
 * webgpu Sum transposes the tensor so that the reduced axes come last, then reduces: two dispatches. Here one thread
 * per column adds its rows in order (as the cpu backend does; a tree would round less over thousands of rows): one
 * dispatch. Many rows (a convolution's bias gradient, batch × height × width)
 * would leave too few threads each too much to add, so those, and every other reduction, go to webgpu's own Sum.
 */

/** Rows one thread adds at most; a batch of 512 through a dense layer is 512. */
export const MAX_COLUMN_ROWS = 4096;

/** One thread per column: `uniforms.size` is the column count. */
class ColumnSumProgram extends FlatProgram {
  variableNames = ['X'];
  override uniforms = 'rows : i32,';

  constructor(columns: number) {
    super('runnerColumnSum', [columns], 64);
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          var total = 0.0;
          for (var row = 0; row < uniforms.rows; row++) { total = total + X[row * uniforms.size + index]; }
          setOutputAtIndex(index, total);
        }
      }`;
  }
}

function sum(args: { inputs: { x: TensorInfo }; backend: WebGPUBackend; attrs: SumAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x } = inputs;
  const rank = x.shape.length;
  const axes = util.parseAxisParam(attrs.axis, x.shape).sort((a, b) => a - b);
  const leading = rank >= 2 && axes.length === rank - 1 && axes.every((axis, i) => axis === i);
  const columns = x.shape[rank - 1]!;
  const rows = util.sizeFromShape(x.shape) / Math.max(columns, 1);
  if (!leading || x.dtype !== 'float32' || rows > MAX_COLUMN_ROWS || rows === 0 || columns === 0) {
    return stockKernel(Sum).kernelFunc(args as unknown as Parameters<KernelConfig['kernelFunc']>[0]) as TensorInfo;
  }
  const out = backend.runWebGPUProgram(new ColumnSumProgram(columns), [x], 'float32', [{ type: 'int32', data: [rows] }]);
  if (!attrs.keepDims) return out;
  const shape = backend_util.expandShapeToKeepDim([columns], axes);
  return { dataId: out.dataId, shape, dtype: out.dtype };
}

export const columnSumConfig: KernelConfig = {
  kernelName: Sum,
  backendName: 'webgpu',
  kernelFunc: sum as unknown as KernelConfig['kernelFunc'],
};
