import { backend_util, Conv2DBackpropFilter, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import { computeDispatch, flatDispatchLayout, stockKernel, type DispatchLayout, type Uniform, type WebGPUBackend, type WebGPUProgram } from './webgpu-program.js';

/**
 * dW[a,b,ci,co] = Σ_{n,i,j} x[n, i·sh + a·dh - padTop, j·sw + b·dw - padLeft, ci] · dy[n,i,j,co]
 *
 * is one matrix product dW = Xᵀ · DY with M = kh·kw·ci rows (the filter taps, in dW's own order, so the
 * [M, N] result is already dW's [kh,kw,ci,co] layout), N = co columns and a reduction over K = n·ho·wo output
 * positions: DY is dy itself read as [K, N], and X [K, M] is the im2col matrix of x, never built: each element
 * is read from x where it is needed, zero where the window hangs over the padding.
 *
 * tfjs-backend-webgpu 4.22 gives each of the M·N filter elements one thread that loops over all K positions:
 * 288 threads for the seed CNN's first layer, each summing 100,352 products at batch 128, which took 22 of a
 * 32 ms training step on an H200. Here the reduction is what is spread out: 32×32 output tiles through
 * workgroup memory, K cut into splits so that tiles × splits is about TARGET_WORKGROUPS, each split writing its
 * partial tile to a [splits, M·N] buffer, and a second program summing the splits into dW (skipped when there is
 * one split). The sums are deterministic: no atomics, each output summed in the same order every time.
 */

/** Output rows and columns per workgroup, and positions of K per step through workgroup memory. */
export const TILE = 32;
/** Enough workgroups to fill a large GPU (an H200 has 132 multiprocessors) several times over; more only adds partials to sum. */
const TARGET_WORKGROUPS = 512;
/** A split sums at least this many tile steps (128 positions), so that its partial tile is worth writing. */
const MIN_STEPS_PER_SPLIT = 4;

export interface SplitPlan {
  splits: number;
  /** Positions of K per split, a multiple of TILE; the last split may get fewer. */
  kPerSplit: number;
}

/** How many ways to cut the reduction for an [M, N] result over K positions. */
export function planSplits(m: number, n: number, k: number): SplitPlan {
  const tiles = Math.ceil(m / TILE) * Math.ceil(n / TILE);
  const steps = Math.ceil(k / TILE);
  const wanted = Math.max(1, Math.min(Math.ceil(TARGET_WORKGROUPS / tiles), Math.floor(steps / MIN_STEPS_PER_SPLIT)));
  const stepsPerSplit = Math.max(1, Math.ceil(steps / wanted));
  // Rounding the steps up can leave the last splits empty: drop them.
  return { splits: Math.max(1, Math.ceil(steps / stepsPerSplit)), kPerSplit: stepsPerSplit * TILE };
}

/**
 * Partial sums of dW, one [M, N] tile grid per split (output [splits, M·N]), or dW itself when there is one split.
 * Workgroups of 16×16 threads, each thread accumulating a 2×2 block of its 32×32 tile (rows ty and ty+16, columns
 * tx and tx+16, so that the reads of workgroup memory in the inner loop are broadcasts or consecutive words).
 */
class Conv2DDerFilterTiledProgram implements WebGPUProgram {
  variableNames = ['x', 'dy'];
  uniforms =
    'pads : vec2<i32>, strides : vec2<i32>, dilations : vec2<i32>, inHeight : i32, inWidth : i32, inChannels : i32, ' +
    'outWidth : i32, outArea : i32, filterWidth : i32, dimM : i32, dimN : i32, dimK : i32, kPerSplit : i32, stepsPerSplit : i32,';
  workgroupSize: [number, number, number] = [16, 16, 1];
  outputShape: number[];
  // Over the shape [splits, M, N]: x walks the column tiles, y the row tiles, z the splits (as MatMulSplitKProgram
  // lays out its [batch, M, N, K]). Its rank differs from the output's, so the library generates no getOutputCoords.
  dispatchLayout: DispatchLayout = { x: [2], y: [1], z: [0] };
  dispatch: [number, number, number];
  shaderKey = 'conv2DBackpropFilterTiled';
  /** Read by the tests. */
  readonly splits: number;

  constructor(outputShape: number[], m: number, n: number, splits: number) {
    this.outputShape = outputShape;
    this.splits = splits;
    this.dispatch = computeDispatch(this.dispatchLayout, [splits, m, n], this.workgroupSize, [2, 2, 1]);
  }

  getUserCode(): string {
    return `
    var<workgroup> tileX : array<array<f32, ${TILE}>, ${TILE}>;
    var<workgroup> tileDy : array<array<f32, ${TILE}>, ${TILE}>;

    fn main() {
      let tx = i32(localId.x);
      let ty = i32(localId.y);
      let rowStart = i32(workgroupId.y) * ${TILE};
      let colStart = i32(workgroupId.x) * ${TILE};
      let split = i32(workgroupId.z);
      let kBegin = split * uniforms.kPerSplit;
      let kEnd = min(kBegin + uniforms.kPerSplit, uniforms.dimK);

      // Each thread loads one column of both tiles (a filter tap of X, an output channel of DY) at rows
      // loadRow, loadRow + 8, loadRow + 16, loadRow + 24: consecutive threads read consecutive channels.
      let loadCol = i32(localIndex) % ${TILE};
      let loadRow = i32(localIndex) / ${TILE};
      let tap = rowStart + loadCol;
      let tapInside = tap < uniforms.dimM;
      let tapsPerRow = uniforms.filterWidth * uniforms.inChannels;
      let kh = tap / tapsPerRow;
      let kwci = tap - kh * tapsPerRow;
      let kw = kwci / uniforms.inChannels;
      let ci = kwci - kw * uniforms.inChannels;
      let tapH = kh * uniforms.dilations.x - uniforms.pads.x;
      let tapW = kw * uniforms.dilations.y - uniforms.pads.y;
      let co = colStart + loadCol;
      let coInside = co < uniforms.dimN;

      var acc00 = 0.0;
      var acc01 = 0.0;
      var acc10 = 0.0;
      var acc11 = 0.0;
      // The trip count is a uniform, so the barriers stay in uniform control flow; the last split's extra steps load zeros.
      for (var step = 0; step < uniforms.stepsPerSplit; step++) {
        let kStart = kBegin + step * ${TILE};
        for (var r = 0; r < ${TILE}; r += 8) {
          let kk = loadRow + r;
          let k = kStart + kk;
          var xValue = 0.0;
          var dyValue = 0.0;
          if (k < kEnd) {
            if (tapInside) {
              let batch = k / uniforms.outArea;
              let ij = k - batch * uniforms.outArea;
              let i = ij / uniforms.outWidth;
              let j = ij - i * uniforms.outWidth;
              let h = i * uniforms.strides.x + tapH;
              let w = j * uniforms.strides.y + tapW;
              if (h >= 0 && h < uniforms.inHeight && w >= 0 && w < uniforms.inWidth) {
                xValue = x[((batch * uniforms.inHeight + h) * uniforms.inWidth + w) * uniforms.inChannels + ci];
              }
            }
            if (coInside) {
              dyValue = dy[k * uniforms.dimN + co];
            }
          }
          tileX[kk][loadCol] = xValue;
          tileDy[kk][loadCol] = dyValue;
        }
        workgroupBarrier();
        for (var kk = 0; kk < ${TILE}; kk++) {
          let a0 = tileX[kk][ty];
          let a1 = tileX[kk][ty + 16];
          let b0 = tileDy[kk][tx];
          let b1 = tileDy[kk][tx + 16];
          acc00 = fma(a0, b0, acc00);
          acc01 = fma(a0, b1, acc01);
          acc10 = fma(a1, b0, acc10);
          acc11 = fma(a1, b1, acc11);
        }
        workgroupBarrier();
      }

      let base = split * uniforms.dimM * uniforms.dimN;
      let row0 = rowStart + ty;
      let row1 = row0 + 16;
      let col0 = colStart + tx;
      let col1 = col0 + 16;
      if (row0 < uniforms.dimM) {
        if (col0 < uniforms.dimN) { setOutputAtIndex(base + row0 * uniforms.dimN + col0, acc00); }
        if (col1 < uniforms.dimN) { setOutputAtIndex(base + row0 * uniforms.dimN + col1, acc01); }
      }
      if (row1 < uniforms.dimM) {
        if (col0 < uniforms.dimN) { setOutputAtIndex(base + row1 * uniforms.dimN + col0, acc10); }
        if (col1 < uniforms.dimN) { setOutputAtIndex(base + row1 * uniforms.dimN + col1, acc11); }
      }
    }
  `;
  }
}

/** dW[i] = Σ_s partials[s, i]: one thread per filter element, reading the splits in order (coalesced across threads). */
class SumSplitsProgram implements WebGPUProgram {
  variableNames = ['partials'];
  uniforms = 'splits : i32,';
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;
  outputShape: number[];
  dispatchLayout: DispatchLayout;
  dispatch: [number, number, number];
  shaderKey = 'conv2DBackpropFilterSumSplits';

  constructor(outputShape: number[]) {
    this.outputShape = outputShape;
    this.dispatchLayout = flatDispatchLayout(outputShape);
    this.dispatch = computeDispatch(this.dispatchLayout, outputShape, this.workgroupSize);
  }

  getUserCode(): string {
    return `
    fn main(index : i32) {
      if (index < uniforms.size) {
        var sum = 0.0;
        for (var s = 0; s < uniforms.splits; s++) {
          sum += partials[s * uniforms.size + index];
        }
        setOutputAtIndex(index, sum);
      }
    }
  `;
  }
}

interface Conv2DBackpropFilterArgs {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: WebGPUBackend;
  attrs: {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
    /** Not among tfjs's attributes for this kernel (its conv2d gradient refuses dilations), but honoured when a caller passes it. */
    dilations?: [number, number] | number;
  };
}

function conv2DBackpropFilter(args: Conv2DBackpropFilterArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape, dilations = 1 } = attrs;
  if (dataFormat === 'NCHW') {
    if (!backend_util.tupleValuesAreOne(dilations)) throw new Error('Conv2DBackpropFilter on webgpu: dilations need NHWC');
    return stockKernel(Conv2DBackpropFilter).kernelFunc(args as unknown as Parameters<KernelConfig['kernelFunc']>[0]) as TensorInfo;
  }
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, dilations, pad, dimRoundingMode, false, 'channelsLast');
  const m = info.filterHeight * info.filterWidth * info.inChannels;
  const n = info.outChannels;
  const k = info.batchSize * info.outHeight * info.outWidth;
  const { splits, kPerSplit } = planSplits(m, n, k);
  const uniforms: Uniform[] = [
    { type: 'int32', data: [info.padInfo.top, info.padInfo.left] },
    { type: 'int32', data: [info.strideHeight, info.strideWidth] },
    { type: 'int32', data: [info.dilationHeight, info.dilationWidth] },
    { type: 'int32', data: [info.inHeight] },
    { type: 'int32', data: [info.inWidth] },
    { type: 'int32', data: [info.inChannels] },
    { type: 'int32', data: [info.outWidth] },
    { type: 'int32', data: [info.outHeight * info.outWidth] },
    { type: 'int32', data: [info.filterWidth] },
    { type: 'int32', data: [m] },
    { type: 'int32', data: [n] },
    { type: 'int32', data: [k] },
    { type: 'int32', data: [kPerSplit] },
    { type: 'int32', data: [kPerSplit / TILE] },
  ];
  if (splits === 1) return backend.runWebGPUProgram(new Conv2DDerFilterTiledProgram(info.filterShape, m, n, 1), [x, dy], 'float32', uniforms);
  const partials = backend.runWebGPUProgram(new Conv2DDerFilterTiledProgram([splits, m * n], m, n, splits), [x, dy], 'float32', uniforms);
  const dw = backend.runWebGPUProgram(new SumSplitsProgram(info.filterShape), [partials], 'float32', [{ type: 'int32', data: [splits] }]);
  backend.disposeData(partials.dataId);
  return dw;
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'webgpu',
  kernelFunc: conv2DBackpropFilter as unknown as KernelConfig['kernelFunc'],
};
