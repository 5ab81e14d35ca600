/**
 * `probeBackend`'s child process: argv backend [gpu]. Loads the backend's native library here rather than in the
 * sweep's process, runs its probe and prints the result as one JSON line.
 */
import type { BackendName } from './names.js';
import { backendEntry } from './registry.js';

const [name, gpu] = process.argv.slice(2) as [BackendName, string | undefined];
try {
  process.stdout.write(`${JSON.stringify(await backendEntry(name).probe({ gpu: gpu || undefined }))}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ usable: false, gpu: false, detail: ((error as Error).message ?? String(error)).split('\n')[0] })}\n`);
}
// Dawn and libtensorflow keep threads alive: the answer is out, so leave now.
process.exit(0);
