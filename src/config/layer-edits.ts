import type { Problem } from '../errors.js';
import { isMapping } from './config-path.js';
import { originBelow, type Blame, type FileOrigin, type Origin, type Tree } from './sources.js';
import { suggest } from './suggest.js';

/** What merging a child's layers over the parent's reports to, and how one layer's fields merge. */
export interface LayerMerge {
  /** The file named by `extends`, for messages about the parent's layers. */
  parentFile: string;
  problems: Problem[];
  blame: Blame;
  /** The child's fields over a parent layer's, by the rules of the whole document (extends.ts), which call back here. */
  mergeFields: (parent: Tree | undefined, child: Tree) => Tree;
}

/** Keys of a child's layer entry that say how it edits the parent's layers; they are not layer fields. */
const EDIT_KEYS = ['at', 'after', 'before', 'remove'] as const;

const REPLACE_HINT = "a `layers` list whose entries name no layer of the parent's and use no at, after, before or remove replaces the parent's layers";

/**
 * A child's `model.layers` over the parent's. The list either replaces the parent's (a whole new model: no entry
 * refers to a parent layer), or edits it, entry by entry:
 *   { name: drop1, rate: 0.3 } / { at: 6, rate: 0.3 }   override the parent's layer field by field, in place
 *                                                      (a different `type` replaces the layer, keeping its name)
 *   { name: drop1, remove: true } / { at: 6, remove: true }   remove it
 *   { type: dropout, rate: 0.2, after: conv1 } / before: 6    insert a new layer next to a parent's layer
 * Names and indices refer to the parent's list as it is before the edits, so the order of the edits does not
 * matter. Anything else (a new name with no position, two edits of one layer) is an error at the entry.
 */
export function mergeLayers(parent: Tree, child: Tree, context: LayerMerge): Tree {
  const parentLayers = parent.value as unknown[];
  const entries = child.value as unknown[];
  const names = parentLayers.map((layer) => (isMapping(layer) && typeof layer.name === 'string' ? layer.name : undefined));
  const known = names.filter((n): n is string => n !== undefined);
  const theParent = `the parent's model (${context.parentFile})`;
  const entryOrigin = (j: number) => originBelow(child.origin, j) as FileOrigin;
  const problem = (j: number, message: string, hint?: string, key?: string) =>
    context.problems.push(context.blame(entryOrigin(j), { path: `model.layers[${j}]${key ? `.${key}` : ''}`, message, hint }, key));
  const notInParent = (j: number, name: string, hint: string) => {
    const guess = suggest(name, known);
    problem(j, `${theParent} has no layer named \`${name}\`${guess ? `; did you mean \`${guess}\`?` : ''}`, hint, 'name');
  };

  const edits = entries.some((e) => isMapping(e) && (EDIT_KEYS.some((k) => k in e) || (typeof e.name === 'string' && known.includes(e.name))));
  if (!edits) {
    // An entry that only names a layer looks like an override whose name has a typo, not like a new layer: the
    // parent's layers stay, so that the model's checks do not pile up problems of a replacement nobody meant.
    const misspelt = entries.flatMap((e, j) => (isMapping(e) && typeof e.name === 'string' && !('type' in e) ? [{ j, name: e.name }] : []));
    for (const { j, name } of misspelt) notInParent(j, name, `to edit one of its layers, use its name or at: <index>; ${REPLACE_HINT}, and then every entry needs a type`);
    return misspelt.length ? parent : child;
  }

  /** A parent layer by name or index, as `after`, `before` or `at` give it. */
  const reference = (j: number, key: string, value: unknown): number | undefined => {
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < parentLayers.length) return value;
    if (typeof value === 'string' && known.includes(value)) return names.indexOf(value);
    const range = `0..${parentLayers.length - 1}`;
    if (typeof value === 'string') {
      const guess = suggest(value, known);
      problem(j, `${theParent} has no layer named \`${value}\`${guess ? `; did you mean \`${guess}\`?` : ''}`, `refer to a layer by its name${known.length ? ` (${known.join(', ')})` : ''} or its index ${range}`, key);
    } else {
      problem(j, `\`${key}\` must be the name or index (${range}) of a layer of ${theParent}, got ${JSON.stringify(value)}`, undefined, key);
    }
    return undefined;
  };

  const overrides = new Map<number, Tree>();
  const removed = new Set<number>();
  const inserted = parentLayers.map(() => ({ before: [] as Tree[], after: [] as Tree[] }));
  entries.forEach((entry, j) => {
    if (!isMapping(entry)) return problem(j, `a layer edit must be a mapping, got ${JSON.stringify(entry)}`, REPLACE_HINT);
    const { at, after, before, remove, ...fields } = entry;
    const position = 'after' in entry ? 'after' : 'before' in entry ? 'before' : undefined;
    if (position) {
      if ('after' in entry && 'before' in entry) return problem(j, 'a new layer goes either after or before another, not both', undefined, 'before');
      const other = 'at' in entry ? 'at' : 'remove' in entry ? 'remove' : undefined;
      if (other) return problem(j, `\`${position}\` inserts a new layer; \`${other}\` edits an existing one: use one of them`, undefined, other);
      if (typeof fields.name === 'string' && known.includes(fields.name)) {
        return problem(j, `layer \`${fields.name}\` is already in ${theParent}; an inserted layer needs a new name`, `to change that layer, edit it in place: { name: ${fields.name}, <field>: <value> }`, 'name');
      }
      const target = reference(j, position, position === 'after' ? after : before);
      if (target !== undefined) inserted[target]![position].push({ value: fields, origin: entryOrigin(j) });
      return;
    }
    let index: number | undefined;
    if ('at' in entry) index = reference(j, 'at', at);
    else if (typeof fields.name === 'string') {
      index = known.includes(fields.name) ? names.indexOf(fields.name) : undefined;
      const hint = 'remove' in entry ? `name one of its layers${known.length ? ` (${known.join(', ')})` : ''} or give its index: at: <index>` : 'to add it, say where it goes: after: <name or index> or before: <name or index>';
      if (index === undefined) return notInParent(j, fields.name, hint);
    } else {
      return problem(j, `this entry edits no layer of ${theParent}`, `give the name (or at: <index>) of the layer it changes, or after:/before: to insert it; ${REPLACE_HINT}`);
    }
    if (index === undefined) return;
    if (overrides.has(index) || removed.has(index)) return problem(j, `model.layers[${index}] of ${theParent} is edited twice`, 'merge the two entries into one');
    if ('remove' in entry) {
      if (remove !== true) return problem(j, `\`remove\` must be true, got ${JSON.stringify(remove)}`, undefined, 'remove');
      const extra = Object.keys(fields).filter((k) => k !== 'name');
      if (extra.length) return problem(j, `a removed layer takes no other fields (${extra.map((k) => `\`${k}\``).join(', ')})`, undefined, extra[0]);
      removed.add(index);
      return;
    }
    const inheritedLayer: Tree = { value: parentLayers[index], origin: originBelow(parent.origin, index) as FileOrigin };
    const inheritedType = isMapping(inheritedLayer.value) ? inheritedLayer.value.type : undefined;
    // The inherited fields belong to the old type; only the name (which sweep paths may use) carries over.
    const base: Tree =
      'type' in fields && fields.type !== inheritedType
        ? { value: isMapping(inheritedLayer.value) && 'name' in inheritedLayer.value ? { name: inheritedLayer.value.name } : {}, origin: inheritedLayer.origin }
        : inheritedLayer;
    overrides.set(index, context.mergeFields(base, { value: fields, origin: entryOrigin(j) }));
  });

  const value: unknown[] = [];
  const origins = new Map<string | number, Origin>();
  const add = (tree: Tree) => {
    origins.set(value.length, tree.origin);
    value.push(tree.value);
  };
  parentLayers.forEach((layer, i) => {
    inserted[i]!.before.forEach(add);
    if (!removed.has(i)) add(overrides.get(i) ?? { value: layer, origin: originBelow(parent.origin, i) as FileOrigin });
    inserted[i]!.after.forEach(add);
  });
  return { value, origin: { ...child.origin, entries: origins } };
}
