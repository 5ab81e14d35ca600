import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { UserError } from '../errors.js';
import { wasmBinaryDir } from './wasm-paths.js';

/** The one module that knows about tfjs backends; model, training and evaluation code never branch on them. */
export type BackendRequest = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export type BackendName = Exclude<BackendRequest, 'auto'>;

export interface BackendInfo {
  name: BackendName;
  /** The npm package that provided the tensorflow backend, when that is the one. */
  package?: string;
  gpu: boolean;
  tfjsVersion: string;
}

export interface BackendChoice {
  name: BackendName;
  /** One line: what was chosen and why the better ones were not. */
  reason: string;
}

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

export interface NativeProbe {
  package: string;
  loaded: boolean;
  problem?: string;
}

/** Tries to load the native (libtensorflow) packages in preference order. */
export async function probeNative(): Promise<NativeProbe[]> {
  const probes: NativeProbe[] = [];
  for (const pkg of NATIVE_PACKAGES) {
    try {
      await import(pkg);
      probes.push({ package: pkg, loaded: true });
      break;
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      const notInstalled = /Cannot find (package|module)/.test(message) && message.includes(pkg);
      probes.push({ package: pkg, loaded: false, problem: notInstalled ? 'not installed' : firstLine(message) });
    }
  }
  return probes;
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 160);
}

/** Resolves `auto` to a concrete backend, with the one-line reason the CLI prints. */
export async function chooseBackend(request: BackendRequest): Promise<BackendChoice> {
  if (request !== 'auto' && request !== 'tensorflow') return { name: request, reason: `${request} (requested)` };
  const probes = await probeNative();
  const loaded = probes.find((p) => p.loaded);
  if (loaded) return { name: 'tensorflow', reason: `tensorflow via ${loaded.package}` };
  const why = probes.map((p) => `${p.package}: ${p.problem}`).join('; ');
  if (request === 'tensorflow') {
    throw new UserError(`backend tensorflow is not available (${why})`, [
      { file: '--backend', message: `backend tensorflow is not available (${why})`, hint: 'npm install @tensorflow/tfjs-node-gpu (needs internet at install time and CUDA 11.2 / cuDNN 8.1 for the GPU), or use --backend wasm' },
    ]);
  }
  return { name: 'wasm', reason: `wasm (no libtensorflow: ${why})` };
}

/**
 * For building models shape-only (validation, plans) in a process that never trains: the cpu backend,
 * set synchronously (its initialisation has no await), without the "install tfjs-node" banner.
 */
export function useCpuForShapes(): void {
  tf.enableProdMode();
  if (tf.engine().backendName !== 'cpu') void tf.setBackend('cpu');
}

/** Makes `name` the active tfjs backend in this process, ready to train. */
export async function activateBackend(name: BackendName): Promise<BackendInfo> {
  // Production mode skips per-op debug checks and the cpu backend's "install tfjs-node" banner.
  tf.enableProdMode();
  let pkg: string | undefined;
  if (name === 'tensorflow') {
    const loaded = (await probeNative()).find((p) => p.loaded);
    if (!loaded) throw new Error('no tfjs-node package loads in this process');
    pkg = loaded.package;
  }
  if (name === 'wasm') {
    setWasmPaths(wasmBinaryDir());
    const { registerWasmTrainingKernels } = await import('./wasm-training/index.js');
    registerWasmTrainingKernels();
  }
  if (!(await tf.setBackend(name))) throw new Error(`tfjs could not initialise the ${name} backend`);
  await tf.ready();
  // tfjs-node-gpu falls back to the CPU silently when CUDA/cuDNN are missing; this flag tells.
  const gpu = Boolean((tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice);
  return { name, package: pkg, gpu, tfjsVersion: tf.version.tfjs };
}
