import { dirname, isAbsolute, join, resolve } from 'node:path';
import { UserError, type Problem } from '../errors.js';
import { isMapping, setOwn, type Segments } from './config-path.js';
import { mergeLayers, type LayerMerge } from './layer-edits.js';
import { readSourceFile, type SourceFile } from './load.js';
import { ExperimentSources, originBelow, problemAt, writtenIn, type Blame, type FileOrigin, type Origin, type Tree } from './sources.js';

/**
 * Reads an experiment file and, first, the chain of files it extends, merging them into one document: mappings
 * merge key by key (the child wins; a child's null removes the inherited field), `model.layers` follows the layer
 * edit rules of layer-edits.ts, every other list replaces the parent's. Throws a UserError when a file cannot be
 * read or is no mapping; other problems of the chain (a layer edit that fits no layer) come back with the document
 * merged without them, which still has to pass the schema.
 */
export function readExperiment(file: string): { document: Record<string, unknown>; sources: ExperimentSources; problems: Problem[] } {
  const chain: SourceFile[] = [];
  const problems: Problem[] = [];
  const blame: Blame = (origin, details, key) => problemAt(chain, origin, details, key);
  const tree = readChain(file, chain, problems, blame);
  return { document: tree.value as Record<string, unknown>, sources: new ExperimentSources(chain, tree.origin), problems };
}

/** `referrer`: the `extends:` that named this file, where a file that cannot be read or is no mapping is blamed. */
function readChain(file: string, chain: SourceFile[], problems: Problem[], blame: Blame, referrer?: FileOrigin): Tree {
  const source = readSourceFile(file);
  if (!('doc' in source)) {
    if (referrer && source.line === undefined) stop(blame(referrer, { message: `extends \`${file}\`: ${source.message}`, hint: 'the path is relative to the file that extends it' }, 'extends'));
    // A YAML mistake in a parent is the parent's, at its own line.
    stop({ ...source, ...(chain.length > 0 && { inheritedBy: chain.map((s) => s.file).reverse() }) });
  }
  chain.push(source);
  const own = writtenIn(source);
  const document: unknown = source.value ?? {};
  if (!isMapping(document)) {
    if (referrer) stop(blame(referrer, { message: `extends \`${file}\`, which is not an experiment: its top level is not a mapping` }, 'extends'));
    stop(blame(own, { message: 'an experiment file must be a YAML mapping (name:, model:, train: ...)' }));
  }
  if (!Object.hasOwn(document, 'extends')) return { value: document, origin: own };

  const { extends: parentPath, ...fields } = document;
  if (typeof parentPath !== 'string' || parentPath === '') {
    stop(blame(own, { path: 'extends', message: '`extends` must be the path of another experiment file, relative to this one', hint: 'e.g. extends: seed-cnn.yaml' }, 'extends'));
  }
  if (!Object.hasOwn(fields, 'name')) {
    const hint = "runs are recorded and reported under the name, which would otherwise be the parent's: add e.g. `name: my-variant`";
    problems.push(blame(own, { path: 'extends', message: 'a file that extends another needs its own `name`', hint }, 'extends'));
  }
  // Kept relative where the user wrote it so, for messages that name the file as they know it.
  const parentFile = isAbsolute(parentPath) ? parentPath : join(dirname(file), parentPath);
  const cycleStart = chain.findIndex((s) => resolve(s.file) === resolve(parentFile));
  if (cycleStart >= 0) {
    const cycle = [...chain.slice(cycleStart).map((s) => s.file), parentFile].join(' → ');
    stop(blame(own, { path: 'extends', message: `\`extends\` makes a cycle: ${cycle}`, hint: 'one of these files must stop extending the next' }, 'extends'));
  }
  const parent = readChain(parentFile, chain, problems, blame, own);
  return mergeTrees(parent, { value: fields, origin: own }, [], { parentFile, problems, blame });
}

/** A problem that leaves nothing to merge: the chain stops here. */
function stop(problem: Problem): never {
  throw new UserError(`${problem.inheritedBy?.at(-1) ?? problem.file}: 1 problem`, [problem]);
}

type MergeContext = Omit<LayerMerge, 'mergeFields'>;

/** The child's value over the parent's: see readExperiment for the rules. */
function mergeTrees(parent: Tree | undefined, child: Tree, path: Segments, context: MergeContext): Tree {
  if (path.join('.') === 'model.layers' && parent && Array.isArray(parent.value) && Array.isArray(child.value)) {
    return mergeLayers(parent, child, { ...context, mergeFields: (base, entry) => mergeTrees(base, entry, [], context) });
  }
  if (!isMapping(child.value)) return child;
  const base = parent && isMapping(parent.value) ? (parent as Tree & { value: Record<string, unknown> }) : undefined;
  const value: Record<string, unknown> = {};
  const entries = new Map<string | number, Origin>();
  for (const [key, inherited] of Object.entries(base?.value ?? {})) {
    setOwn(value, key, inherited);
    entries.set(key, originBelow(base!.origin, key));
  }
  for (const [key, written] of Object.entries(child.value)) {
    if (written === null) {
      delete value[key];
      entries.delete(key);
      continue;
    }
    const below = (tree: Tree): Tree => ({ value: (tree.value as Record<string, unknown>)[key], origin: originBelow(tree.origin, key) as FileOrigin });
    const merged = mergeTrees(base && Object.hasOwn(base.value, key) ? below(base) : undefined, below(child), [...path, key], context);
    setOwn(value, key, merged.value);
    entries.set(key, merged.origin);
  }
  return { value, origin: { ...child.origin, entries } };
}
