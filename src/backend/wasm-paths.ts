import { createRequire } from 'node:module';
import { dirname } from 'node:path';

/** Directory holding the tfjs wasm binaries, resolved from the installed package so it works from any cwd. */
export function wasmBinaryDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + '/';
}
