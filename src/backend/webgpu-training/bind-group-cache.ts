import type { WebGPUBackend } from './webgpu-program.js';

/**
 * Reuses bind groups. tfjs-backend-webgpu creates one for every dispatch, yet a training step binds the same
 * buffers step after step (tfjs pools its buffers, its uniform buffers included), so nearly every bind group it asks
 * for exists already. A bind group names buffers, not their contents, so reusing one is exact while its buffers live;
 * a destroyed buffer takes every bind group that names it out of the cache.
 */

/** Bind groups kept at most: a step of the seed CNN uses about 50. */
const CAPACITY = 4096;

export interface BindGroupCacheStats {
  hits: number;
  misses: number;
  /** Bind groups held now. */
  held: number;
}

const installed = new WeakMap<GPUDevice, BindGroupCacheStats>();

export function cacheBindGroups(backend: WebGPUBackend): BindGroupCacheStats {
  const device = backend.device;
  const existing = installed.get(device);
  if (existing) return existing;
  const stats: BindGroupCacheStats = { hits: 0, misses: 0, held: 0 };
  installed.set(device, stats);

  // A pipeline's getBindGroupLayout returns a new object per call: one per pipeline and index gives the cache a key.
  const layouts = new WeakMap<GPUComputePipeline, Map<number, GPUBindGroupLayout>>();
  const pipelineProto = globalThis.GPUComputePipeline.prototype;
  const getLayout = pipelineProto.getBindGroupLayout;
  pipelineProto.getBindGroupLayout = function (this: GPUComputePipeline, index: number) {
    let byIndex = layouts.get(this);
    if (!byIndex) layouts.set(this, (byIndex = new Map()));
    let layout = byIndex.get(index);
    if (!layout) byIndex.set(index, (layout = getLayout.call(this, index)));
    return layout;
  };

  const ids = new WeakMap<object, number>();
  let nextId = 1;
  const idOf = (object: object) => {
    let id = ids.get(object);
    if (id === undefined) ids.set(object, (id = nextId++));
    return id;
  };
  const groups = new Map<string, { group: GPUBindGroup; buffers: number[] }>();
  const keysByBuffer = new Map<number, Set<string>>();
  const forget = (key: string) => {
    for (const id of groups.get(key)?.buffers ?? []) keysByBuffer.get(id)?.delete(key);
    groups.delete(key);
    stats.held = groups.size;
  };

  const bufferProto = globalThis.GPUBuffer.prototype;
  const destroy = bufferProto.destroy;
  bufferProto.destroy = function (this: GPUBuffer) {
    const id = ids.get(this);
    if (id !== undefined) {
      for (const key of [...(keysByBuffer.get(id) ?? [])]) forget(key);
      keysByBuffer.delete(id);
    }
    return destroy.call(this);
  };

  const create = device.createBindGroup.bind(device);
  device.createBindGroup = (descriptor: GPUBindGroupDescriptor) => {
    const entries = [...descriptor.entries];
    const buffers: number[] = [];
    let key = `${idOf(descriptor.layout)}`;
    for (const entry of entries) {
      const resource = entry.resource as GPUBufferBinding;
      if (!(resource.buffer instanceof GPUBuffer)) return create(descriptor);
      const id = idOf(resource.buffer);
      buffers.push(id);
      key += `|${entry.binding}:${id}:${resource.offset ?? 0}:${resource.size ?? ''}`;
    }
    const cached = groups.get(key);
    if (cached) {
      stats.hits++;
      // Most recently used last, so that the oldest go first when the cache is full.
      groups.delete(key);
      groups.set(key, cached);
      return cached.group;
    }
    stats.misses++;
    const group = create(descriptor);
    if (groups.size >= CAPACITY) forget(groups.keys().next().value!);
    groups.set(key, { group, buffers });
    stats.held = groups.size;
    for (const id of buffers) {
      let keys = keysByBuffer.get(id);
      if (!keys) keysByBuffer.set(id, (keys = new Set()));
      keys.add(key);
    }
    return group;
  };
  return stats;
}
