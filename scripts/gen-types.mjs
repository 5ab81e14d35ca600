// Generates src/config/experiment.types.ts from schemas/experiment.schema.json, the format's single source of truth.
// `--check` exits 1 when the committed file is stale (run by the tests).
import { compileFromFile } from 'json-schema-to-typescript';
import { readFileSync, writeFileSync } from 'node:fs';

const out = new URL('../src/config/experiment.types.ts', import.meta.url);
const ts = await compileFromFile(new URL('../schemas/experiment.schema.json', import.meta.url).pathname, {
  bannerComment: '/* Generated from schemas/experiment.schema.json by `npm run gen:types`; do not edit. */',
  additionalProperties: false,
  unreachableDefinitions: false,
  style: { singleQuote: true },
});
if (process.argv.includes('--check')) {
  const current = readFileSync(out, 'utf8');
  if (current !== ts) { console.error('src/config/experiment.types.ts is stale: run npm run gen:types'); process.exit(1); }
} else {
  writeFileSync(out, ts);
}
