// Bundles the built runner (dist/, from `tsc`) for a machine with no network and no node_modules.
// Used by scripts/gpu/pack.sh: `rolldown -c scripts/gpu/rolldown.config.mjs`, run from the repository root,
// with GPU_PACK_APP naming the output folder (the mini package root that setup.sh unpacks).
//
// - Every entry keeps its relative path (dist/src/cli.js, dist/src/trial/worker.js, dist/bench/*.js), because
//   the CLI and the bench start workers by path from the package root; shared code goes to dist/chunks/.
// - No tree-shaking: tfjs registers backends, kernels and chained tensor methods (`x.slice`) as import side
//   effects, which a tree-shaking bundler drops silently.
// - `webgpu` (Dawn, a native addon) and `better-sqlite3` (a native addon found through `bindings`) stay
//   external; pack.sh copies them into the app's node_modules/.
// - Emscripten's glue in tfjs-backend-wasm reads `__dirname`, which ES modules lack: the banner defines it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const out = process.env.GPU_PACK_APP;
if (!out) throw new Error('GPU_PACK_APP (the output folder) is not set; run scripts/gpu/pack.sh');

/** Every .js file under dir, recursively. */
function jsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? jsFiles(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : [],
  );
}

const entries = new Set(['dist/src/cli.js', 'dist/src/trial/worker.js']);
for (const f of readdirSync('dist/bench')) if (f.endsWith('.js')) entries.add(`dist/bench/${f}`);

// Scripts started by path: `join(packageRoot, 'dist', 'x', 'y.js')` anywhere in the build becomes an entry too.
const byPath = /join\(\s*packageRoot\s*,((?:\s*'[^']*'\s*,?)+)\)/g;
for (const file of jsFiles('dist')) {
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(byPath)) {
    const parts = [...m[1].matchAll(/'([^']*)'/g)].map((p) => p[1]);
    const path = parts.join('/');
    if (parts[0] === 'dist' && path.endsWith('.js')) entries.add(path);
  }
  if (/new Worker\(|new URL\([^)]*import\.meta\.url/.test(text)) {
    console.warn(`rolldown.config: ${file} starts a Worker or builds a URL from import.meta.url; check it still works bundled`);
  }
}
for (const e of entries) if (!existsSync(e)) throw new Error(`entry ${e} is not in dist/: run tsc first`);

const EXTERNAL = ['webgpu', 'better-sqlite3', /^@tensorflow\/tfjs-node/];

export default {
  input: Object.fromEntries([...entries].map((e) => [e.replace(/\.js$/, ''), e])),
  platform: 'node',
  treeshake: false,
  external: EXTERNAL,
  logLevel: 'warn',
  output: {
    dir: out,
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: 'dist/chunks/[name]-[hash].js',
    banner: 'var __filename = import.meta.filename, __dirname = import.meta.dirname;',
  },
};
