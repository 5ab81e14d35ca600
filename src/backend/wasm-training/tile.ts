import { Tile, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Tile as block copies. wasm 4.22's kernel computes source coordinates element by element, and batch
 * normalization's gradient tiles per-channel statistics to the whole activation twice per layer: that was
 * a third of a training step of the seed CNN with batch normalization after each convolution. Here the
 * input is laid into the first tile row by row, then each axis, innermost first, is repeated by copying
 * the block already built.
 */
function tile({ inputs, attrs, backend }: { inputs: { x: TensorInfo }; attrs: { reps: number[] }; backend: BackendWasm }): TensorInfo {
  const { x } = inputs;
  const shape = x.shape;
  const reps = attrs.reps;
  const rank = shape.length;
  const outShape = shape.map((size, axis) => size * reps[axis]!);
  const out = backend.makeOutput(outShape, x.dtype);
  const target = backend.typedArrayFromHeap(out);
  const source = backend.typedArrayFromHeap(x);
  if (target.length === 0) return out;
  if (rank === 0) {
    target[0] = source[0]!;
    return out;
  }
  const inStrides = new Array<number>(rank).fill(1);
  const outStrides = new Array<number>(rank).fill(1);
  for (let axis = rank - 2; axis >= 0; axis--) {
    inStrides[axis] = inStrides[axis + 1]! * shape[axis + 1]!;
    outStrides[axis] = outStrides[axis + 1]! * outShape[axis + 1]!;
  }
  const fill = (axis: number, inOffset: number, outOffset: number): void => {
    const size = shape[axis]!;
    if (axis === rank - 1) {
      target.set(source.subarray(inOffset, inOffset + size), outOffset);
    } else {
      for (let i = 0; i < size; i++) fill(axis + 1, inOffset + i * inStrides[axis]!, outOffset + i * outStrides[axis]!);
    }
    const block = size * outStrides[axis]!;
    for (let r = 1; r < reps[axis]!; r++) target.copyWithin(outOffset + r * block, outOffset, outOffset + block);
  };
  fill(0, 0, 0);
  return out;
}

export const tileConfig: KernelConfig = {
  kernelName: Tile,
  backendName: 'wasm',
  kernelFunc: tile as unknown as KernelConfig['kernelFunc'],
};
