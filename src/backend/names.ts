/**
 * The backends' names, free of any tfjs import so that the schema, the CLI and the config layer can use them.
 * The registry (registry.ts) has one entry per name, in the same order.
 */
export const BACKEND_NAMES = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export const BACKEND_REQUESTS = ['auto', ...BACKEND_NAMES] as const;
export type BackendRequest = (typeof BACKEND_REQUESTS)[number];
