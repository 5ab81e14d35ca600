/**
 * Dotted paths into an experiment, as sweeps and --set use them: `train.optimizer.learningRate`,
 * `model.layers.0.filters` or `model.layers.drop1.rate` (a layer by its name).
 */
export type Segments = (string | number)[];

export type PathResolution = { ok: true; segments: Segments } | { ok: false; reason: string; hint?: string };

/** Names that reach an object's prototype: a path through one would write into every object of the process. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Why a dotted path is refused before anything reads or writes along it, or undefined when it may be followed. */
export function refusedPath(dotted: string): { reason: string; hint: string } | undefined {
  const parts = dotted.split('.');
  const reserved = parts.find((part) => PROTOTYPE_KEYS.has(part));
  if (reserved !== undefined) return { reason: `\`${reserved}\` cannot be part of a path`, hint: 'paths name fields of the experiment, such as train.epochs or model.layers.drop1.rate' };
  if (parts.some((part) => part === '')) return { reason: `\`${dotted}\` has an empty part`, hint: 'separate the fields with single dots, e.g. train.optimizer.learningRate' };
  return undefined;
}

export function resolveDottedPath(document: unknown, dotted: string): PathResolution {
  const refused = refusedPath(dotted);
  if (refused) return { ok: false, ...refused };
  const parts = dotted.split('.');
  const segments: Segments = [];
  let node: unknown = document;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const isLast = i === parts.length - 1;
    if (Array.isArray(node)) {
      const index = /^\d+$/.test(part) ? Number(part) : node.findIndex((item) => item && typeof item === 'object' && (item as { name?: unknown }).name === part);
      if (index < 0 || index >= node.length) {
        const names = node.map((item) => (item as { name?: string })?.name).filter(Boolean);
        return {
          ok: false,
          reason: `\`${parts.slice(0, i).join('.')}\` has no entry \`${part}\``,
          hint: `use an index 0..${node.length - 1}${names.length ? ` or a layer name (${names.join(', ')})` : ', or give the layer a `name` and use that'}`,
        };
      }
      segments.push(index);
      node = node[index];
    } else if (node && typeof node === 'object') {
      segments.push(part);
      node = Object.hasOwn(node, part) ? (node as Record<string, unknown>)[part] : undefined;
      if (node === undefined && !isLast) {
        // An absent parent object is created on write (e.g. train.earlyStopping.patience).
        node = {};
      }
    } else {
      return { ok: false, reason: `\`${parts.slice(0, i).join('.')}\` is a value, not a mapping or list` };
    }
  }
  return { ok: true, segments };
}

/** The value at `segments`, or undefined where the path leaves the document (own fields only, never a prototype's). */
export function valueAt(document: unknown, segments: Segments): unknown {
  return segments.reduce<unknown>((node, segment) => (node && typeof node === 'object' && Object.hasOwn(node, segment) ? (node as Record<string | number, unknown>)[segment] : undefined), document);
}

/** Writes `value` at `segments`, creating missing parent mappings. Every write defines an own field, so no segment can reach a prototype. */
export function setAt(document: Record<string, unknown>, segments: Segments, value: unknown): void {
  let node: Record<string | number, unknown> = document;
  segments.forEach((segment, i) => {
    if (i === segments.length - 1) {
      setOwn(node, segment, value);
      return;
    }
    const child = Object.hasOwn(node, segment) ? node[segment] : undefined;
    if (child === undefined || child === null) setOwn(node, segment, {});
    node = node[segment] as Record<string | number, unknown>;
  });
}

/** `object[key] = value` without the `__proto__` setter: the key becomes an own field whatever its name. */
export function setOwn(object: object, key: string | number, value: unknown): void {
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
}

/** True when `path` is `ancestor` itself or lies inside it. */
export function isAtOrBelow(path: readonly (string | number)[], ancestor: readonly (string | number)[]): boolean {
  return ancestor.length <= path.length && ancestor.every((segment, i) => String(path[i]) === String(segment));
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
