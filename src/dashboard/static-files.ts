import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../package-root.js';

export interface StaticFile {
  body: Buffer;
  contentType: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Every file the page loads, read into memory once at start: the page in src/dashboard/public/, its scripts as tsc
 * compiled them from src/dashboard/client/ (with src/ui/format.ts, which they import), and ECharts from node_modules. Nothing else on disk can be served,
 * whatever the path says, and the page needs no network.
 */
export function loadStaticFiles(): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const add = (url: string, path: string) => files.set(url, { body: readFileSync(path), contentType: CONTENT_TYPES[path.slice(path.lastIndexOf('.'))]! });
  const publicDir = join(packageRoot, 'src', 'dashboard', 'public');
  add('/', join(publicDir, 'index.html'));
  add('/style.css', join(publicDir, 'style.css'));
  add('/favicon.svg', join(publicDir, 'favicon.svg'));
  const clientDir = fileURLToPath(new URL('./client/', import.meta.url));
  for (const name of readdirSync(clientDir).filter((n) => n.endsWith('.js'))) add(`/app/${name}`, join(clientDir, name));
  // The terminal's number formats, shared so that the page prints the same figures as `runner report`.
  add('/ui/format.js', fileURLToPath(new URL('../ui/format.js', import.meta.url)));
  add('/vendor/echarts.min.js', createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js'));
  return files;
}
