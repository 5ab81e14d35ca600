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

/** Vulkan on the CPU, by adapter name or driver manifest: exact, but no faster than the wasm backend. */
export const CPU_VULKAN = /swiftshader|llvmpipe|lavapipe|lvp_icd|software|microsoft basic render/i;

let installed: { key: string; gpu: GPU } | undefined;

/**
 * Dawn's flags. The two toggles skip zero-filling memory the kernels overwrite anyway; they were measured safe and
 * a little faster on a CPU (../shared/gpu/README.md). RUNNER_DAWN_FLAGS adds more, for measuring them.
 */
function dawnFlags(options: DawnOptions): string[] {
  // Dawn keeps one value per key, so extra toggles join the list rather than replace it.
  const features = ['disable_workgroup_init', 'disable_lazy_clear_for_mapped_at_creation_buffer'];
  const flags: string[] = [];
  for (const flag of (process.env.RUNNER_DAWN_FLAGS ?? '').split(';').filter(Boolean)) {
    const [key, value = ''] = flag.split('=', 2) as [string, string | undefined];
    if (key === 'enable-dawn-features') features.push(...value.split(',').filter(Boolean));
    else flags.push(flag);
  }
  flags.unshift(`enable-dawn-features=${features.join(',')}`);
  if (options.gpu) flags.push(`adapter=${options.gpu}`);
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
    software: Boolean(info.isFallbackAdapter) || CPU_VULKAN.test(text),
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
