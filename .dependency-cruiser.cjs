/**
 * The layers of src/, bottom first: a module may import its own layer and those below it, never one above, and no
 * import cycle is allowed anywhere. README.md, "Layout", says what each layer holds; test/layers-only-point-down.test.ts
 * runs these rules over src/ and over the page's compiled scripts in dist/ (`npx depcruise src dist/src/dashboard/client`).
 */
const LAYERS = [
  ['leaves', '^src/(errors|package-root|git|random|run-status)\\.ts$'],
  ['ui', '^src/ui/'],
  ['data', '^src/data/'],
  ['config', '^src/config/'],
  ['backend', '^src/backend/'],
  ['model', '^src/model/'],
  ['trial', '^src/trial/'],
  ['store', '^src/store/'],
  ['sweep', '^src/sweep/'],
  ['report', '^src/report/'],
  ['dashboard', '^src/dashboard/(?!client/)'],
  ['commands', '^src/commands/'],
  ['cli', '^src/cli\\.ts$'],
];

/** The page's scripts run in the browser: besides themselves, only the shared formatting and the API's types. */
const BROWSER = '^src/dashboard/client/';

module.exports = {
  forbidden: [
    { name: 'no-cycle', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'in-a-layer',
      comment: 'every module of src/ belongs to one layer, so that the rules below see it',
      severity: 'error',
      from: { path: '^src/', pathNot: [...LAYERS.map(([, path]) => path), BROWSER] },
      to: {},
    },
    ...LAYERS.map(([name, path], index) => ({
      name: `${name}-points-down`,
      severity: 'error',
      from: { path },
      to: { path: LAYERS.slice(index + 1).map(([, above]) => above).concat(BROWSER) },
    })),
    {
      name: 'browser-code',
      severity: 'error',
      from: { path: BROWSER },
      to: { path: '^src/', pathNot: [BROWSER, '^src/ui/format\\.ts$', '^src/dashboard/api-types\\.ts$'] },
    },
    {
      name: 'browser-code-as-served',
      comment: 'tsc erases type imports, so the compiled page may import only itself and ui/format.js: static-files.ts serves nothing else',
      severity: 'error',
      from: { path: '^dist/src/dashboard/client/' },
      to: { pathNot: ['^dist/src/dashboard/client/', '^dist/src/ui/format\\.js$'] },
    },
  ],
  options: {
    parser: 'swc',
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
  },
};
