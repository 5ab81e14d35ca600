import { cruise, format, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

// The rules are .dependency-cruiser.cjs: each folder of src/ imports only the layers below it, no module takes part in
// an import cycle, and the page's compiled scripts (dist/, hence the build first) load nothing the server does not serve.
it('every import of src/ points down its layers, with no cycle', async () => {
  const options = await extractDepcruiseOptions(`${ROOT}.dependency-cruiser.cjs`);
  const result = (await cruise(['src', 'dist/src/dashboard/client'], { ...options, baseDir: ROOT })).output as ICruiseResult;
  const cruised = (tree: string) => result.modules.filter((module) => module.source.startsWith(tree)).length;
  // A wrong base folder finds no module, and so no violation either.
  expect(cruised('src/')).toBeGreaterThan(100);
  expect(cruised('dist/src/dashboard/client/')).toBeGreaterThan(0);
  const { output } = await format(result, { outputType: 'err' });
  expect(result.summary.violations, String(output)).toEqual([]);
});
