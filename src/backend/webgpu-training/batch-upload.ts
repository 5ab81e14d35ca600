import * as tf from '@tensorflow/tfjs';
import type { UploadTensor } from '../training-overrides.js';
import type { WebGPUBackend } from './webgpu-program.js';

/**
 * Uploads through `queue.writeBuffer` into GPU buffers kept for reuse. tfjs's own upload (`tf.tensor` on webgpu)
 * creates a mapped staging buffer for every tensor, copies it over and destroys it after the submit, and creating a
 * mapped buffer cost about 0.6 ms on an H100 (Vulkan); the training loop uploads every batch. Dawn's writeBuffer
 * copies through a staging ring it keeps instead.
 *
 * writeBuffer takes effect in queue order, ahead of the commands tfjs has recorded but not yet submitted, so a kept
 * buffer is written again only once tfjs has let go of the tensor made from it: tfjs keeps a disposed tensor in its
 * `tensorMap` for as long as an unsubmitted command uses it, and drops it at the submit.
 *
 * Buffers are kept per byte size until `destroy`: a training run uploads a few sizes (the batch, the last partial
 * batch, a scoring chunk), each in one or two buffers.
 */
export class KeptUploads {
  private readonly kept = new Map<number, { buffer: GPUBuffer; dataId?: object }[]>();

  constructor(private readonly backend: WebGPUBackend) {}

  upload(values: Float32Array | Int32Array, shape: number[], dtype: 'float32' | 'int32'): tf.Tensor {
    const bytes = values.byteLength;
    if (bytes === 0) return tf.tensor(values, shape, dtype);
    const { backend } = this;
    const slots = this.kept.get(bytes) ?? [];
    this.kept.set(bytes, slots);
    let slot = slots.find(({ dataId }) => !dataId || !backend.tensorMap.has(dataId));
    if (!slot) {
      slot = { buffer: backend.device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST }) };
      slots.push(slot);
    }
    backend.queue.writeBuffer(slot.buffer, 0, values.buffer, values.byteOffset, bytes);
    const tensor = tf.tensor({ buffer: slot.buffer, zeroCopy: true }, shape, dtype);
    slot.dataId = tensor.dataId;
    return tensor;
  }

  /** Frees every kept buffer; the caller makes sure no tensor made from one is still in use. */
  destroy(): void {
    for (const slots of this.kept.values()) for (const { buffer } of slots) buffer.destroy();
    this.kept.clear();
  }
}

/** Float32 batches through kept buffers, for the life of the backend. */
export function webgpuUploader(backend: WebGPUBackend): UploadTensor {
  const kept = new KeptUploads(backend);
  return (values, shape) => kept.upload(values, shape, 'float32');
}
