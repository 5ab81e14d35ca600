import stableStringify from 'fast-json-stable-stringify';
import type { Run } from '../store/run-store.js';
import { seedlessIdentity } from '../trial/identity.js';

/** A run's trial identity without the seed, the one the sweep defines, so reports and diffs agree with it on what counts as the same trial. */
export function configIdentity(run: Run): ReturnType<typeof seedlessIdentity> {
  return seedlessIdentity(run.config);
}

/** configIdentity as text, to group runs by. */
export function configKey(run: Run): string {
  return stableStringify(configIdentity(run));
}

/** The sweep parameters of a run without its seed (which configKey ignores too). */
export function sweepParams(run: Run): Record<string, unknown> {
  return withoutSeed(run.params);
}

/** Runs recorded before a swept train.seed was folded into `seed` carry it under its own key. */
export function withoutSeed(params: Record<string, unknown>): Record<string, unknown> {
  const { seed: _seed, 'train.seed': _sweptSeed, ...rest } = params;
  return rest;
}

/** `{ train: { optimizer: { name: 'adam' } }, layers: [{ units: 8 }] }` → `{ 'train.optimizer.name': 'adam', 'layers.0.units': 8 }`. */
export function flatten(value: unknown, prefix = ''): Record<string, unknown> {
  const isContainer = value !== null && typeof value === 'object' && Object.keys(value).length > 0;
  if (!isContainer) return prefix ? { [prefix]: value } : {};
  return Object.assign({}, ...Object.entries(value).map(([key, child]) => flatten(child, prefix ? `${prefix}.${key}` : key)));
}

export interface ConfigChange {
  path: string;
  /** undefined when the path is absent on that side. */
  a: unknown;
  b: unknown;
}

export interface ConfigDifference {
  path: string;
  /** One per config, undefined where the path is absent from it. */
  values: unknown[];
}

/** Every dotted path whose value is not the same in all `configs`; a path absent from one is a difference too. */
export function configDifferences(configs: readonly unknown[]): ConfigDifference[] {
  const flat = configs.map((config) => flatten(config));
  // Document order: layers stay in stack order rather than sorting layers.10 before layers.2.
  const paths = [...new Set(flat.flatMap((fields) => Object.keys(fields)))];
  return paths
    .filter((path) => new Set(flat.map((fields) => (path in fields ? stableStringify(fields[path]) : '<absent>'))).size > 1)
    .map((path) => ({ path, values: flat.map((fields) => fields[path]) }));
}

/** Every dotted path whose value differs between two configs. */
export function configChanges(a: unknown, b: unknown): ConfigChange[] {
  return configDifferences([a, b]).map(({ path, values: [va, vb] }) => ({ path, a: va, b: vb }));
}
