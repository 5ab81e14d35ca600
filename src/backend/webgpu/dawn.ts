import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../package-root.js';

/**
 * Dawn (the npm package `webgpu`) as `navigator.gpu` for Node. tfjs-backend-webgpu registers itself only when
 * `navigator.gpu` exists at its import, so this runs before that import.
 */

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation (SwiftShader, llvmpipe): correct, but no faster than the wasm backend. */
  software: boolean;
}

export interface DawnOptions {
  /** Picks one adapter on a machine with several: part of its device name (Dawn matches on that alone). */
  gpu?: string;
}

const SOFTWARE_ADAPTERS = /swiftshader|llvmpipe|lavapipe|software|microsoft basic render/i;

let installed: { key: string; gpu: GPU } | undefined;

/** Dawn's flags: the toggles are those measured safe (see the README's GPU section). */
function dawnFlags(options: DawnOptions): string[] {
  const flags = ['enable-dawn-features=disable_workgroup_init,disable_lazy_clear_for_mapped_at_creation_buffer'];
  if (options.gpu) flags.push(`adapter=${options.gpu}`);
  // For measuring other toggles without a rebuild, e.g. RUNNER_DAWN_FLAGS='enable-dawn-features=skip_validation'.
  flags.push(...(process.env.RUNNER_DAWN_FLAGS ?? '').split(';').filter(Boolean));
  return flags;
}

/** Installs Dawn as `navigator.gpu` once per process. */
export async function installDawn(options: DawnOptions = {}): Promise<GPU> {
  const key = JSON.stringify(options);
  if (installed) {
    if (installed.key !== key) throw new Error('Dawn is already set up in this process with other options');
    return installed.gpu;
  }
  // Dawn warns on stderr for every adapter it opens without it.
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const gpu = create(dawnFlags(options));
  Object.defineProperty(globalThis, 'navigator', { value: { ...(globalThis.navigator ?? {}), gpu }, configurable: true, writable: true });
  installed = { key, gpu };
  return gpu;
}

export function describeAdapter(adapter: GPUAdapter): AdapterInfo {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    software: Boolean(info.isFallbackAdapter) || SOFTWARE_ADAPTERS.test(text),
  };
}

/** The adapter tfjs will get, or why there is none. */
export async function probeAdapter(options: DawnOptions = {}): Promise<{ adapter?: AdapterInfo; problem?: string }> {
  try {
    const gpu = await installDawn(options);
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { problem: 'Dawn found no Vulkan/Metal/D3D12 adapter' };
    return { adapter: describeAdapter(adapter) };
  } catch (error) {
    return { problem: ((error as Error).message ?? String(error)).split('\n')[0]!.slice(0, 200) };
  }
}

/**
 * `probeAdapter` in a child process, so that Dawn's warnings about drivers it cannot use (lavapipe, say) do not
 * land in the middle of a sweep's output; the first of them explains a missing adapter.
 */
export function probeAdapterQuietly(options: DawnOptions = {}): Promise<{ adapter?: AdapterInfo; problem?: string }> {
  const script = join(packageRoot, 'dist', 'src', 'backend', 'webgpu', 'probe-adapter.js');
  return new Promise((resolve) => {
    execFile(process.execPath, [script, options.gpu ?? ''], { timeout: 30_000 }, (error, stdout, stderr) => {
      const warning = stderr.split('\n').find((line) => /warning|error/i.test(line))?.replace(/^\s*(Warning|Error):\s*/i, '');
      try {
        const found = JSON.parse(stdout.trim().split('\n').pop() ?? '') as { adapter?: AdapterInfo; problem?: string };
        resolve(found.adapter || !warning ? found : { problem: `${found.problem} (Dawn: ${warning})` });
      } catch {
        resolve({ problem: `the adapter probe failed: ${(error?.message ?? stderr).split('\n')[0]}` });
      }
    });
  });
}
