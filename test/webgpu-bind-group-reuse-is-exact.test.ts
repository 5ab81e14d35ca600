import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { activateBackend } from '../src/backend/select.js';
import { cacheBindGroups, type BindGroupCacheStats } from '../src/backend/webgpu-training/bind-group-cache.js';

process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
process.env.XDG_RUNTIME_DIR ??= '/tmp';

/**
 * Bind groups reused across dispatches (webgpu's default): the same buffers give the same bind group, new
 * contents in them are seen, and a destroyed buffer takes its bind groups with it.
 */
let stats: BindGroupCacheStats;
let device: GPUDevice;

beforeAll(async () => {
  await activateBackend('webgpu');
  const backend = tf.backend() as WebGPUBackend;
  device = backend.device;
  stats = cacheBindGroups(backend);
});

describe('reused bind groups', () => {
  it('are reused for the same buffers, and see what was written to them since', async () => {
    const buffer = device.createBuffer({ size: 12, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(buffer, 0, new Float32Array([1, 2, 3]));
    const input = tf.tensor({ buffer, zeroCopy: true }, [3], 'float32');
    const b = tf.tensor1d([10, 20, 30]);
    const first = input.add(b);
    expect(await first.data()).toEqual(new Float32Array([11, 22, 33]));
    first.dispose();
    const before = { ...stats };
    device.queue.writeBuffer(buffer, 0, new Float32Array([4, 5, 6]));
    // tfjs hands the released output buffer (and its pooled uniform buffer) to the next add of the same size.
    const second = input.add(b);
    expect(await second.data()).toEqual(new Float32Array([14, 25, 36]));
    expect(stats.hits).toBeGreaterThan(before.hits);
    tf.dispose([input, b, second]);
    buffer.destroy();
  });

  it('forgets the bind groups of a destroyed buffer', async () => {
    const buffer = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(buffer, 0, new Float32Array([1, 2, 3, 4]));
    const external = tf.tensor({ buffer, zeroCopy: true }, [4], 'float32');
    const doubled = external.mul(2);
    expect(await doubled.data()).toEqual(new Float32Array([2, 4, 6, 8]));
    const held = stats.held;
    tf.dispose([external, doubled]);
    buffer.destroy();
    expect(stats.held).toBeLessThan(held);
  });
});
