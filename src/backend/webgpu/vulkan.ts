import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What Dawn's Vulkan path needs on Linux, found the way the Vulkan loader looks for it. */
export interface VulkanSetup {
  /** Where libvulkan.so.1 is, if anywhere on the usual library paths. */
  loader?: string;
  /** Driver manifests (ICDs): from VK_DRIVER_FILES / VK_ICD_FILENAMES when set, else the standard folders. */
  drivers: { manifest: string; library?: string }[];
  /** Which variable named the manifests, if one did. */
  driversFrom?: string;
}

const LIBRARY_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib', '/lib/x86_64-linux-gnu'];
const ICD_DIRS = ['/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/share/vulkan/icd.d', '/usr/local/nvidia/share/vulkan/icd.d'];

export function findVulkan(env: NodeJS.ProcessEnv = process.env): VulkanSetup {
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LIBRARY_DIRS];
  const loader = dirs.map((d) => join(d, 'libvulkan.so.1')).find((f) => existsSync(f));
  const named = env.VK_DRIVER_FILES ? 'VK_DRIVER_FILES' : env.VK_ICD_FILENAMES ? 'VK_ICD_FILENAMES' : undefined;
  const manifests = named
    ? env[named]!.split(':').filter(Boolean)
    : ICD_DIRS.filter((d) => existsSync(d)).flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => join(d, f)));
  return { loader, drivers: manifests.map((manifest) => ({ manifest, library: driverLibrary(manifest) })), driversFrom: named };
}

function driverLibrary(manifest: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { ICD?: { library_path?: string } }).ICD?.library_path;
  } catch {
    return undefined;
  }
}
