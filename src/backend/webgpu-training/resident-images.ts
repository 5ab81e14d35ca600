import * as tf from '@tensorflow/tfjs';
import { util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { ResidentImages } from '../training-overrides.js';
import { KeptUploads } from './batch-upload.js';
import { FlatProgram, type Uniform, type WebGPUBackend } from './webgpu-program.js';

/**
 * An image set's bytes and labels on the GPU, four bytes to a 32-bit word, and batches gathered there: the CPU
 * uploads a batch's sample indices (4 bytes a sample) instead of gathering, scaling and uploading its pixels (3,136
 * bytes a 28×28 sample). On an H100 the CPU gather alone took 3 ms of a 12 ms step at batch 512.
 *
 * A pixel is scaled by looking its byte up in a table of byte / 255 computed on the CPU, so it is the float32 the
 * CPU path makes; a division on the GPU need not round the same way.
 */

/** A byte of a packed array: WebGPU storage has no 8-bit type. Little-endian, as the bytes were written. */
const BYTE_AT = `
  fn byteAt(word : i32, position : i32) -> i32 {
    return i32((bitcast<u32>(word) >> (u32(position % 4) * 8u)) & 255u);
  }`;

class GatherPixelsProgram extends FlatProgram {
  variableNames = ['Images', 'Indices', 'Scale'];
  override uniforms = 'pixels : i32,';

  constructor(shape: number[]) {
    super('runnerGatherPixels', shape);
  }

  getUserCode(): string {
    return `${BYTE_AT}
      fn main(index : i32) {
        if (index < uniforms.size) {
          let source = Indices[index / uniforms.pixels] * uniforms.pixels + index % uniforms.pixels;
          setOutputAtIndex(index, Scale[byteAt(Images[source / 4], source)]);
        }
      }`;
  }
}

class GatherTargetsProgram extends FlatProgram {
  variableNames = ['Labels', 'Indices'];
  override uniforms = 'classes : i32,';

  constructor(shape: number[], private readonly oneHot: boolean) {
    super(`runnerGatherTargets_${oneHot ? 'oneHot' : 'sparse'}`, shape);
  }

  getUserCode(): string {
    const value = this.oneHot
      ? 'select(0.0, 1.0, labelOf(index / uniforms.classes) == index % uniforms.classes)'
      : 'f32(labelOf(index))';
    return `${BYTE_AT}
      fn labelOf(sample : i32) -> i32 {
        let source = Indices[sample];
        return byteAt(Labels[source / 4], source);
      }
      fn main(index : i32) {
        if (index < uniforms.size) {
          setOutputAtIndex(index, ${value});
        }
      }`;
  }
}

/** GPU memory of sets no longer referenced, returned when the garbage collector takes their handle. */
const released = new FinalizationRegistry<() => void>((release) => release());

/** tfjs keeps these to itself; freeing a set's buffers must not pull them from under recorded commands. */
type Internals = { commandEncoder: GPUCommandEncoder | null; submitQueue(): void };

/**
 * `images` (count × pixels bytes) and `labels` (count bytes) held on the GPU, or undefined where they do not fit in
 * one storage binding, or index arithmetic in 32 bits.
 */
export function webgpuResidentImages(backend: WebGPUBackend, images: Uint8Array, labels: Uint8Array, pixels: number, classes: number): ResidentImages | undefined {
  const limit = backend.device.limits.maxStorageBufferBindingSize;
  if (images.byteLength === 0 || images.byteLength + 4 > limit || images.byteLength >= 2 ** 31 || pixels <= 0) return undefined;
  // Held outside tfjs's engine (no tensor to count or dispose), as tfjs holds a tensor made from a GPU buffer.
  const held: { dataId: object; buffer: GPUBuffer }[] = [];
  const hold = (values: ArrayBufferView, shape: number[], dtype: 'int32' | 'float32'): TensorInfo => {
    const bytes = Math.ceil(values.byteLength / 4) * 4;
    const buffer = backend.device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    const padded = new Uint8Array(bytes);
    padded.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    backend.queue.writeBuffer(buffer, 0, padded);
    const dataId = {};
    backend.tensorMap.set(dataId, { dtype, shape, values: null, refCount: 1, external: true, resource: buffer } as never);
    held.push({ dataId, buffer });
    return { dataId, shape, dtype };
  };
  const imageWords = hold(images, [Math.ceil(images.byteLength / 4)], 'int32');
  const labelWords = hold(labels, [Math.ceil(labels.byteLength / 4)], 'int32');
  const scale = hold(Float32Array.from({ length: 256 }, (_, value) => value / 255), [256], 'float32');
  const uploads = new KeptUploads(backend);
  const run = (program: FlatProgram, inputs: TensorInfo[], uniforms: Uniform[]) =>
    tf.engine().makeTensorFromTensorInfo(backend.runWebGPUProgram(program, inputs, 'float32', uniforms));
  const gatherPixels = (chosen: TensorInfo, count: number, inputShape: readonly number[]) => {
    if (util.sizeFromShape([...inputShape]) !== pixels) throw new Error(`an input of shape [${inputShape.join(', ')}] does not hold ${pixels} pixels`);
    return run(new GatherPixelsProgram([count, ...inputShape]), [imageWords, chosen, scale], [{ type: 'int32', data: [pixels] }]);
  };
  const chosenSamples = (indices: ArrayLike<number>) => uploads.upload(Int32Array.from(indices), [indices.length], 'int32');
  const handle: ResidentImages = {
    inputs(indices, inputShape) {
      const chosen = chosenSamples(indices);
      try {
        return gatherPixels(chosen, indices.length, inputShape);
      } finally {
        chosen.dispose();
      }
    },
    labelled(indices, inputShape, targets) {
      const chosen = chosenSamples(indices);
      try {
        const oneHot = targets === 'oneHot';
        const y = run(new GatherTargetsProgram(oneHot ? [indices.length, classes] : [indices.length], oneHot), [labelWords, chosen], [{ type: 'int32', data: [classes] }]);
        try {
          return { x: gatherPixels(chosen, indices.length, inputShape), y };
        } catch (error) {
          y.dispose();
          throw error;
        }
      } finally {
        chosen.dispose();
      }
    },
  };
  released.register(handle, () => {
    // Commands recorded but not yet submitted may read these buffers: they go first.
    const internals = backend as unknown as Internals;
    if (internals.commandEncoder) internals.submitQueue();
    for (const { dataId, buffer } of held) {
      backend.tensorMap.delete(dataId);
      buffer.destroy();
    }
    uploads.destroy();
  });
  return handle;
}
