import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { BACKEND_NAMES, type BackendName } from './names.js';
import type { OptimizerFactories } from './optimizer-factories.js';
import type { AddTotals, ResidentImages, TrainingLosses, UploadTensor } from './training-overrides.js';
import { wasmBinaryDir } from './wasm-paths.js';
import { CPU_VULKAN, type AdapterInfo } from './webgpu/dawn.js';
import { findVulkan } from './webgpu/vulkan.js';
// Types only from tfjs-backend-webgpu: importing these does not load the package (which must follow Dawn).
import { fusedTrain } from './webgpu-training/optimizers.js';
import { fusedLosses } from './webgpu-training/losses.js';
import { fusedAddTotals } from './webgpu-training/totals.js';
import { webgpuUploader } from './webgpu-training/batch-upload.js';
import { webgpuResidentImages } from './webgpu-training/resident-images.js';

/** What a backend's probe found on this machine, without training anything. */
export interface Probe {
  usable: boolean;
  /** Trains on a GPU (a CPU adapter such as SwiftShader does not count). */
  gpu: boolean;
  /** One line: what was found, or why it cannot be used. */
  detail: string;
  /** What to install or change when it is unusable or runs on the CPU. */
  fix?: string;
  adapter?: AdapterInfo;
}

export interface BackendInfo {
  name: BackendName;
  /** The npm package that provided the tensorflow backend, when that is the one. */
  package?: string;
  gpu: boolean;
  tfjsVersion: string;
  /** The WebGPU adapter trained on. */
  adapter?: AdapterInfo;
}

export interface MachineOptions {
  /** On a machine with several GPUs: part of the adapter's name as its driver reports it (Dawn has no index). */
  gpu?: string;
}

export interface BackendEntry {
  name: BackendName;
  /** For `doctor` and `--help`. */
  summary: string;
  /** `auto` takes this backend without a GPU too (in registry order, after every GPU one). */
  autoWithoutGpu: boolean;
  /**
   * What is on this machine, checked in this process. A backend whose check loads native code (libtensorflow,
   * Dawn) is `isolated`: `probeBackend` runs this in a child process, so that the caller's process keeps no CUDA
   * context or GPU device and the library's warnings stay out of its output.
   */
  probe(options: MachineOptions): Promise<Probe>;
  isolated?: boolean;
  /**
   * An answer without loading anything, where one is certain (not installed; only CPU Vulkan drivers); undefined
   * means "probe". `asked`: the user named this backend, so a CPU adapter is wanted too.
   */
  verdictWithoutProbe?(asked: boolean): Probe | undefined;
  /** Makes it tfjs's active backend in this process, ready to train. */
  activate(options: MachineOptions): Promise<BackendInfo>;
  /** Trials at once on one machine, when --concurrency is not given. */
  defaultConcurrency(probe: Probe, cores: number): number;
  /** This backend's own versions of `tf.train`'s optimizer factories, same signatures; the others stay stock. */
  optimizers?: OptimizerFactories;
  /** This backend's own versions of tfjs-layers' training losses; the others stay stock. */
  losses?: TrainingLosses;
  /** This backend's own way of adding a batch to an epoch's running loss and accuracy totals, wrapping the stock one. */
  addTotals?: (stock: AddTotals) => AddTotals;
  /** This backend's own way of taking in batches from the CPU, made once per backend instance (stock: `tf.tensor`). */
  uploader?: () => UploadTensor;
  /** Holds a labelled image set on this backend's device, for batches gathered there; undefined where it cannot. */
  residentImages?: (images: Uint8Array, labels: Uint8Array, pixels: number, classes: number) => ResidentImages | undefined;
}

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

async function loadNative(): Promise<{ package?: string; problems: string[] }> {
  const problems: string[] = [];
  for (const pkg of NATIVE_PACKAGES) {
    try {
      await import(pkg);
      return { package: pkg, problems };
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      const notInstalled = /Cannot find (package|module)/.test(message) && message.includes(pkg);
      problems.push(`${pkg}: ${notInstalled ? 'not installed' : message.split('\n')[0]!.slice(0, 160)}`);
    }
  }
  return { problems };
}

async function setActive(name: BackendName): Promise<void> {
  // Production mode skips per-op debug checks and the cpu backend's "install tfjs-node" banner.
  tf.enableProdMode();
  applyTfjsFlags(process.env.RUNNER_TFJS_FLAGS);
  if (!(await tf.setBackend(name))) throw new Error(`tfjs could not initialise the ${name} backend`);
  await tf.ready();
}

/** tfjs flags from the environment (`NAME=value,…`), for measuring them without a rebuild. */
function applyTfjsFlags(text: string | undefined): void {
  for (const pair of (text ?? '').split(',').filter(Boolean)) {
    const [name, value] = pair.split('=') as [string, string | undefined];
    tf.env().set(name, value === undefined || value === 'true' ? true : value === 'false' ? false : Number(value));
  }
}

const NOT_INSTALLED_FIX = 'npm install @tensorflow/tfjs-node-gpu@4.22.0 (needs internet at install time, and CUDA 11.2 / cuDNN 8.1 for the GPU), or @tensorflow/tfjs-node@4.22.0 for the CPU';

const tensorflow: BackendEntry = {
  name: 'tensorflow',
  summary: 'libtensorflow through @tensorflow/tfjs-node-gpu (CUDA 11.2 / cuDNN 8.1) or @tensorflow/tfjs-node (CPU, multi-threaded)',
  autoWithoutGpu: true,
  isolated: true,
  verdictWithoutProbe() {
    const resolve = createRequire(import.meta.url).resolve;
    const installed = NATIVE_PACKAGES.filter((pkg) => {
      try {
        resolve(pkg);
        return true;
      } catch {
        return false;
      }
    });
    return installed.length ? undefined : { usable: false, gpu: false, detail: NATIVE_PACKAGES.map((pkg) => `${pkg}: not installed`).join('; '), fix: NOT_INSTALLED_FIX };
  },
  async probe() {
    const loaded = await loadNative();
    if (!loaded.package) return { usable: false, gpu: false, detail: loaded.problems.join('; '), fix: NOT_INSTALLED_FIX };
    const info = await tensorflow.activate({});
    return info.gpu
      ? { usable: true, gpu: true, detail: `via ${loaded.package}, GPU in use` }
      : { usable: true, gpu: false, detail: `via ${loaded.package}, on the CPU`, fix: loaded.package.endsWith('-gpu') ? 'install CUDA 11.2 and cuDNN 8.1 for tfjs-node-gpu 4.22' : undefined };
  },
  async activate() {
    const loaded = await loadNative();
    if (!loaded.package) throw new Error(`no tfjs-node package loads in this process (${loaded.problems.join('; ')})`);
    await setActive('tensorflow');
    // tfjs-node-gpu falls back to the CPU silently when CUDA/cuDNN are missing; this flag tells.
    const gpu = Boolean((tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice);
    return { name: 'tensorflow', package: loaded.package, gpu, tfjsVersion: tf.version.tfjs };
  },
  // libtensorflow uses every core (or the whole GPU) from one process.
  defaultConcurrency: () => 1,
};

const webgpu: BackendEntry = {
  name: 'webgpu',
  summary: 'WebGPU through Dawn (npm webgpu): Vulkan on Linux, Metal on macOS, D3D12 on Windows; no CUDA needed',
  autoWithoutGpu: false,
  isolated: true,
  verdictWithoutProbe(asked) {
    const drivers = process.platform === 'linux' ? findVulkan().drivers : [];
    // Only when every driver the loader would find is a CPU one: a manifest in a folder not searched here is still probed.
    if (asked || drivers.length === 0 || drivers.some((d) => !CPU_VULKAN.test(`${d.manifest} ${d.library ?? ''}`))) return undefined;
    return { usable: true, gpu: false, detail: 'only CPU Vulkan drivers; named with --backend webgpu it runs on a CPU adapter such as SwiftShader', fix: VULKAN_FIX };
  },
  async probe(options) {
    const { probeAdapter } = await import('./webgpu/dawn.js');
    const { adapter, problem } = await probeAdapter(options);
    if (!adapter) {
      const unmatched = options.gpu ? `no adapter's name contains "${options.gpu}" (Dawn matches the driver's own name, case-sensitive: e.g. "H200", "SwiftShader")` : undefined;
      return { usable: false, gpu: false, detail: unmatched ?? problem ?? 'no adapter', fix: unmatched ? 'run `runner doctor` without --gpu to see the adapter found' : VULKAN_FIX };
    }
    const name = `${adapter.device || adapter.architecture} (${adapter.vendor}; ${adapter.description})`;
    return adapter.software
      ? { usable: true, gpu: false, adapter, detail: `${name}: a CPU implementation of Vulkan, used only when asked for (--backend webgpu)`, fix: 'install the GPU\'s Vulkan driver (see VK_ICD_FILENAMES)' }
      : { usable: true, gpu: true, adapter, detail: name };
  },
  async activate(options) {
    const { installDawn, describeAdapter } = await import('./webgpu/dawn.js');
    const gpu = await installDawn(options);
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new Error('Dawn found no WebGPU adapter (run `runner doctor`)');
    // The package registers its backend at import, and only when navigator.gpu exists.
    await import('@tensorflow/tfjs-backend-webgpu');
    const { prepareWebGpuBackend, registerWebGpuTrainingKernels } = await import('./webgpu-training/index.js');
    registerWebGpuTrainingKernels();
    await setActive('webgpu');
    prepareWebGpuBackend(tf.backend() as Parameters<typeof prepareWebGpuBackend>[0]);
    const info = describeAdapter(adapter);
    return { name: 'webgpu', gpu: !info.software, tfjsVersion: tf.version.tfjs, adapter: info };
  },
  // Fewer dispatches and no per-step scalar uploads: the stock update was a third of a step on the GPU.
  optimizers: fusedTrain,
  // One dispatch each way instead of about 35 on [batch, classes] tensors.
  losses: fusedLosses,
  addTotals: fusedAddTotals,
  // No staging buffer created per upload, and the data sets on the GPU: a batch is gathered there.
  uploader: () => webgpuUploader(tf.backend() as Parameters<typeof webgpuUploader>[0]),
  residentImages: (images, labels, pixels, classes) => webgpuResidentImages(tf.backend() as Parameters<typeof webgpuResidentImages>[0], images, labels, pixels, classes),
  defaultConcurrency: (probe, cores) => (probe.gpu ? Math.max(1, Math.min(WEBGPU_TRIALS_PER_GPU, cores)) : 1),
};

export const VULKAN_FIX =
  "Linux: apt-get install libvulkan1 and the GPU's Vulkan driver (NVIDIA: the driver's nvidia_icd.json plus libglvnd0 libgl1 libglx0 libegl1; AMD/Intel: mesa-vulkan-drivers); point VK_ICD_FILENAMES at the driver's manifest if it is not found";

/**
 * Trials sharing one GPU through WebGPU. At small batches a trial is bound by its own CPU core issuing dispatches
 * (the seed CNN at batch 128 on an H100: 2.9 ms per step, 1.5 ms of it on the GPU), so trials overlap well: 4 at
 * once trained 3.5× one trial's samples/s (README, "webgpu on an NVIDIA H100"). More were not measured.
 */
const WEBGPU_TRIALS_PER_GPU = 4;

const wasm: BackendEntry = {
  name: 'wasm',
  summary: 'bundled (@tensorflow/tfjs-backend-wasm) with the runner\'s training kernels; one core per trial, trials run in parallel processes',
  autoWithoutGpu: true,
  probe: async () => ({ usable: true, gpu: false, detail: 'bundled' }),
  async activate() {
    setWasmPaths(wasmBinaryDir());
    const { registerWasmTrainingKernels } = await import('./wasm-training/index.js');
    registerWasmTrainingKernels();
    await setActive('wasm');
    return { name: 'wasm', gpu: false, tfjsVersion: tf.version.tfjs };
  },
  defaultConcurrency: (_probe, cores) => Math.max(1, Math.min(cores, 8)),
};

const cpu: BackendEntry = {
  name: 'cpu',
  summary: 'bundled; pure JavaScript, slow, used only when asked for (--backend cpu)',
  autoWithoutGpu: false,
  probe: async () => ({ usable: true, gpu: false, detail: 'bundled' }),
  async activate() {
    await setActive('cpu');
    return { name: 'cpu', gpu: false, tfjsVersion: tf.version.tfjs };
  },
  defaultConcurrency: (_probe, cores) => Math.max(1, Math.min(cores, 8)),
};

/** In `auto`'s order of preference: GPU backends first, then those that run well on the CPU. */
export const BACKENDS: readonly BackendEntry[] = [tensorflow, webgpu, wasm, cpu];

if (BACKENDS.map((b) => b.name).join() !== BACKEND_NAMES.join()) throw new Error('backend registry and BACKEND_NAMES disagree');

export function backendEntry(name: BackendName): BackendEntry {
  return BACKENDS.find((b) => b.name === name)!;
}
