import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { activateBackend, tensorUploader } from '../src/backend/select.js';

process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
process.env.XDG_RUNTIME_DIR ??= '/tmp';

/**
 * webgpu's uploader writes each batch into a GPU buffer it keeps for the next batches of that size, with
 * queue.writeBuffer, which takes effect ahead of the commands tfjs has recorded but not yet submitted. These check
 * that a batch is never overwritten while a recorded command still needs it, and that buffers are reused once free.
 */
describe('the webgpu batch uploader', () => {
  beforeAll(async () => {
    await activateBackend('webgpu');
  });

  const batch = (value: number) => new Float32Array(6).fill(value);

  it('leaves a disposed batch alone while an unsubmitted command still reads it', async () => {
    const upload = tensorUploader();
    const first = upload(batch(1), [2, 3]);
    const firstSum = first.sum(); // recorded, not yet submitted
    first.dispose();
    const second = upload(batch(5), [2, 3]);
    const secondSum = second.sum();
    expect(await firstSum.data()).toEqual(new Float32Array([6]));
    expect(await secondSum.data()).toEqual(new Float32Array([30]));
    tf.dispose([firstSum, second, secondSum]);
  });

  it('reuses a buffer once its batch is gone, and never the buffer of a batch still held', async () => {
    const upload = tensorUploader();
    const device = (tf.backend() as WebGPUBackend).device;
    const batchUsage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const sevenFloats = (value: number) => new Float32Array(7).fill(value); // 28 bytes: no other tensor here
    const created: GPUBufferDescriptor[] = [];
    const create = device.createBuffer.bind(device);
    device.createBuffer = (descriptor: GPUBufferDescriptor) => {
      if (descriptor.size === 28 && descriptor.usage === batchUsage) created.push(descriptor);
      return create(descriptor);
    };
    try {
      const held = upload(sevenFloats(2), [7]);
      const next = upload(sevenFloats(3), [7]);
      expect(created).toHaveLength(2);
      next.dispose();
      const again = upload(sevenFloats(4), [7]);
      expect(created).toHaveLength(2);
      expect(await held.data()).toEqual(sevenFloats(2));
      expect(await again.data()).toEqual(sevenFloats(4));
      tf.dispose([held, again]);
    } finally {
      device.createBuffer = create;
    }
  });

  it('gives shapes of the same size their own tensors and the right values', async () => {
    const upload = tensorUploader();
    const values = Float32Array.from({ length: 12 }, (_, i) => i);
    const a = upload(values, [3, 4]);
    const b = upload(values, [4, 3]);
    expect(a.shape).toEqual([3, 4]);
    expect(b.shape).toEqual([4, 3]);
    expect(await b.data()).toEqual(values);
    tf.dispose([a, b]);
  });
});
