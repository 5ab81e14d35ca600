import { availableParallelism } from 'node:os';
import { UserError } from '../errors.js';
import type { BackendName, BackendRequest } from './names.js';
import type * as tf from '@tensorflow/tfjs';
import { BACKENDS, backendEntry, type BackendEntry, type BackendInfo, type MachineOptions, type OptimizerSettings, type Probe } from './registry.js';

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
    const probe = await backendEntry(request).probe(options, true);
    if (!probe.usable) {
      const message = `${request} is not available (${probe.detail})`;
      throw new UserError(`backend ${message}`, [{ file: '--backend', message, hint: probe.fix ?? 'run `runner doctor`, or choose another --backend' }]);
    }
    return { name: request, reason: `${request} (requested${probe.adapter ? `; ${probe.detail}` : ''})`, probe };
  }
  const passed: string[] = [];
  const probes = new Map<BackendName, Probe>();
  for (const entry of BACKENDS) {
    const probe = await entry.probe(options);
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

let active: BackendEntry | undefined;

/** Makes `name` the active tfjs backend in this process, ready to train. */
export async function activateBackend(name: BackendName, options: MachineOptions = {}): Promise<BackendInfo> {
  const entry = backendEntry(name);
  const info = await entry.activate(options);
  active = entry;
  return info;
}

/** The active backend's own optimizer for these settings (webgpu's fused updates), or undefined for tfjs's stock one. */
export function backendOptimizer(settings: OptimizerSettings): tf.Optimizer | undefined {
  return active?.optimizer?.(settings);
}

/** Trials at once on this machine when --concurrency is not given: what suits the chosen backend. */
export function defaultConcurrency(choice: BackendChoice): number {
  return backendEntry(choice.name).defaultConcurrency(choice.probe, availableParallelism());
}
