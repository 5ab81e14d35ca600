/**
 * Dotted paths into an experiment, as sweeps and --set use them: `train.optimizer.learningRate`,
 * `model.layers.0.filters` or `model.layers.drop1.rate` (a layer by its name).
 */
export type Segments = (string | number)[];

export type PathResolution = { ok: true; segments: Segments } | { ok: false; reason: string; hint?: string };

export function resolveDottedPath(document: unknown, dotted: string): PathResolution {
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
      node = (node as Record<string, unknown>)[part];
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

/** The value at `segments`, or undefined where the path leaves the document. */
export function valueAt(document: unknown, segments: Segments): unknown {
  return segments.reduce<unknown>((node, segment) => (node && typeof node === 'object' ? (node as Record<string | number, unknown>)[segment] : undefined), document);
}

/** Writes `value` at `segments`, creating missing parent mappings. */
export function setAt(document: Record<string, unknown>, segments: Segments, value: unknown): void {
  let node: Record<string | number, unknown> = document;
  segments.forEach((segment, i) => {
    if (i === segments.length - 1) {
      node[segment] = value;
      return;
    }
    if (node[segment] === undefined || node[segment] === null) node[segment] = {};
    node = node[segment] as Record<string | number, unknown>;
  });
}

/** True when `path` is `ancestor` itself or lies inside it. */
export function isAtOrBelow(path: readonly (string | number)[], ancestor: readonly (string | number)[]): boolean {
  return ancestor.length <= path.length && ancestor.every((segment, i) => String(path[i]) === String(segment));
}
