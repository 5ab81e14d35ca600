import { availableParallelism } from 'node:os';
import { UserError } from '../errors.js';
import * as tf from '@tensorflow/tfjs';
import type { BackendName, BackendRequest } from './names.js';
import type { OptimizerFactories } from './optimizer-factories.js';
import type { AddTotals, LossFunction, ResidentImages, TrainingLosses, UploadTensor } from './training-overrides.js';
import { probeBackend } from './probe.js';
import { BACKENDS, backendEntry, type BackendEntry, type BackendInfo, type MachineOptions, type Probe } from './registry.js';

/** The one module that picks a tfjs backend; model, training and evaluation code never branch on them. */
export type { BackendName, BackendRequest } from './names.js';
export type { BackendInfo, MachineOptions } from './registry.js';

export interface BackendChoice {
  name: BackendName;
  /** One line: what was chosen and why the better ones were not. */
  reason: string;
  probe: Probe;
}

/** Resolves `auto` (or checks a named backend) to a concrete backend, with the one-line reason the CLI prints. */
export async function chooseBackend(request: BackendRequest, options: MachineOptions = {}): Promise<BackendChoice> {
  if (request !== 'auto') {
    const probe = await probeBackend(request, options, true);
    if (!probe.usable) {
      // Named by --backend or by a file's `backend:` field; either way the word "backend" leads the line.
      const message = `${request} is not available (${probe.detail})`;
      throw new UserError('the chosen backend cannot run here; nothing was run', [{ file: 'backend', message, hint: probe.fix ?? 'run `runner doctor`, or choose another backend' }]);
    }
    return { name: request, reason: `${request} (requested${probe.adapter ? `; ${probe.detail}` : ''})`, probe };
  }
  return autoChoice((name) => probeBackend(name, options));
}

/**
 * `auto`'s rule over probes however obtained (doctor passes the ones it has shown): the first GPU backend in
 * registry order, else the first usable one that `auto` may take on a CPU.
 */
export async function autoChoice(probeOf: (name: BackendName) => Promise<Probe>): Promise<BackendChoice> {
  const passed: string[] = [];
  const probes = new Map<BackendName, Probe>();
  for (const entry of BACKENDS) {
    const probe = await probeOf(entry.name);
    probes.set(entry.name, probe);
    if (probe.usable && probe.gpu) return { name: entry.name, reason: `${entry.name} on the GPU: ${probe.detail}`, probe };
    passed.push(`${entry.name}: ${probe.usable ? 'no GPU' : probe.detail}`);
  }
  for (const entry of BACKENDS) {
    const probe = probes.get(entry.name)!;
    if (entry.autoWithoutGpu && probe.usable) return { name: entry.name, reason: `${entry.name} on the CPU (no GPU backend: ${passed.join('; ')})`, probe };
  }
  throw new Error('no backend is usable, not even wasm');
}

/** Makes `name` the active tfjs backend in this process, ready to train. */
export function activateBackend(name: BackendName, options: MachineOptions = {}): Promise<BackendInfo> {
  return backendEntry(name).activate(options);
}

const { sgd, momentum, adam, rmsprop, adagrad, adadelta, adamax } = tf.train;
const STOCK_OPTIMIZERS: Required<OptimizerFactories> = { sgd, momentum, adam, rmsprop, adagrad, adadelta, adamax };

/** The registry entry of tfjs's active backend (none for a backend the registry does not know). */
function activeEntry(): BackendEntry | undefined {
  return BACKENDS.find((entry) => entry.name === tf.getBackend());
}

/** `tf.train`'s optimizer factories, with the active backend's own (webgpu's fused updates) in place of the stock ones. */
export function optimizerFactories(): Required<OptimizerFactories> {
  return { ...STOCK_OPTIMIZERS, ...activeEntry()?.optimizers };
}

/** The per-sample loss `name` to train with: the active backend's own where it has one, else tfjs-layers' `stock`. */
export function trainingLoss(name: string, stock: LossFunction): LossFunction {
  const own = activeEntry()?.losses?.[name as keyof TrainingLosses];
  return own ? own(stock) : stock;
}

/** How a batch is added to an epoch's running totals: the active backend's own way where it has one, else `stock`. */
export function trainingTotals(stock: AddTotals): AddTotals {
  return activeEntry()?.addTotals?.(stock) ?? stock;
}

/**
 * How batches reach the active backend: its own uploader where it has one, else `tf.tensor`. RUNNER_UPLOAD=stock
 * takes `tf.tensor` everywhere (and holds no set on the device, below), for measuring the difference.
 */
export function tensorUploader(): UploadTensor {
  if (process.env.RUNNER_UPLOAD === 'stock') return stockUpload;
  // One per backend instance: an uploader keeps its GPU buffers for the next batches of the same size.
  const backend = tf.backend();
  let upload = uploaders.get(backend);
  if (!upload) {
    upload = activeEntry()?.uploader?.() ?? stockUpload;
    uploaders.set(backend, upload);
  }
  return upload;
}
const stockUpload: UploadTensor = (values, shape) => tf.tensor(values, shape, 'float32');
const uploaders = new WeakMap<tf.KernelBackend, UploadTensor>();

/**
 * A labelled image set held on the active backend's device, once per set, where the backend can hold one (webgpu);
 * undefined elsewhere, and with RUNNER_UPLOAD=stock. Sets are told apart by the bytes they view, since a slice of
 * the dataset (trainLimit) is a new view of the same memory each time it is taken.
 */
export function residentImages(set: { images: Uint8Array; labels: Uint8Array }, pixels: number, classes: number): ResidentImages | undefined {
  if (process.env.RUNNER_UPLOAD === 'stock') return undefined;
  const entry = activeEntry();
  if (!entry?.residentImages) return undefined;
  const backend = tf.backend();
  const byBackend = residents.get(backend) ?? new WeakMap<ArrayBufferLike, Map<string, ResidentImages | null>>();
  residents.set(backend, byBackend);
  const held = byBackend.get(set.images.buffer) ?? new Map<string, ResidentImages | null>();
  byBackend.set(set.images.buffer, held);
  const { images, labels } = set;
  const key = `${images.byteOffset}:${images.byteLength}:${labels.byteOffset}:${labels.byteLength}:${pixels}:${classes}`;
  if (!held.has(key)) held.set(key, entry.residentImages(images, labels, pixels, classes) ?? null);
  return held.get(key) ?? undefined;
}
const residents = new WeakMap<tf.KernelBackend, WeakMap<ArrayBufferLike, Map<string, ResidentImages | null>>>();

/** Trials at once on this machine when --concurrency is not given: what suits the chosen backend. */
export function defaultConcurrency(choice: BackendChoice): number {
  return backendEntry(choice.name).defaultConcurrency(choice.probe, availableParallelism());
}
