import type { ErrorObject } from 'ajv';
import { isAtOrBelow, isMapping, valueAt, type Segments } from './config-path.js';
import { formatPath, pointerSegments } from './document-path.js';
import { branchSchema, discriminatorValues, resolveRef, type JsonSchema } from './schema.js';
import { suggest } from './suggest.js';

/** One schema error in words a person can act on, with the document path it concerns. */
export interface SchemaMessage {
  segments: (string | number)[];
  /** Full path of what is wrong: for an unknown or missing field, the field itself rather than its parent. */
  target: (string | number)[];
  /** Key whose position is more telling than the value's (an unknown field's own name). */
  key?: string;
  /** The known field an unknown one most likely meant. */
  guess?: string;
  message: string;
  hint?: string;
}

/** Whether the schema refused the field at `segments` or anything inside it: its own checks then have nothing to go on. */
export function schemaRefused(messages: readonly SchemaMessage[], segments: Segments): boolean {
  return messages.some((m) => isAtOrBelow(m.target, segments));
}

/** Turns ajv's errors into one message per real mistake: oneOf noise folded, suggestions added. */
export function explainSchemaErrors(allErrors: ErrorObject[], document: unknown): SchemaMessage[] {
  const errors = branchesChosenByShape(allErrors, document);
  const oneOfFailures = errors.filter((e) => e.keyword === 'oneOf');
  // A list entry without `type` fails both `required` and the discriminator; the discriminator's message says more.
  const untyped = new Set(errors.filter((e) => e.keyword === 'discriminator' && (e.params as { error?: string }).error === 'tag').map((e) => e.instancePath));
  const relevant = errors.filter(
    (e) =>
      !oneOfFailures.some((o) => o !== e && e.schemaPath.startsWith(`${o.schemaPath}/`) && e.instancePath.startsWith(o.instancePath)) &&
      !(e.keyword === 'required' && (e.params as { missingProperty?: string }).missingProperty === 'type' && untyped.has(e.instancePath)) &&
      // Say only "property name must be valid" and 'must match "else" schema'; the failed rule's own error says how.
      e.keyword !== 'propertyNames' &&
      e.keyword !== 'if',
  );
  const messages = relevant.map((e) => explain(e, document)).map((m): SchemaMessage => ({ ...m, target: m.target ?? m.segments }));
  const seen = new Set<string>();
  return messages.filter((m) => {
    const id = `${formatPath(m.segments)}|${m.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/**
 * A oneOf between a list and a mapping (a sweep key's values or distribution) is decided by the value's shape: a list
 * or a mapping is that branch's, and its own errors say what is wrong with it (a distribution's missing end), not
 * "must be a list or a mapping". Any other value gets the oneOf's message alone, the errors of a branch it reached
 * through a $ref included. A oneOf over scalars keeps its one message ("a positive integer or a pair of …").
 */
function branchesChosenByShape(errors: ErrorObject[], document: unknown): ErrorObject[] {
  let kept = errors;
  for (const o of errors.filter((e) => e.keyword === 'oneOf')) {
    const branches = (o.schema as JsonSchema[]).map((branch, i) => ({ shape: resolveRef(branch).type, prefix: branch.$ref ? `${branch.$ref}/` : `${o.schemaPath}/${i}/` }));
    const shapes = branches.map(({ shape }) => shape);
    if (!shapes.every((shape) => shape === 'array' || shape === 'object') || new Set(shapes).size !== shapes.length) continue;
    const value = valueAt(document, pointerSegments(o.instancePath));
    const chosen = branches.find(({ shape }) => shape === (Array.isArray(value) ? 'array' : isMapping(value) ? 'object' : undefined));
    const inBranch = (e: ErrorObject, branch: { prefix: string }) => e.instancePath.startsWith(o.instancePath) && e.schemaPath.startsWith(branch.prefix);
    kept = kept.filter((e) => (e === o ? !chosen : !branches.some((branch) => branch !== chosen && inBranch(e, branch))));
  }
  return kept;
}

/** A message whose target is its segments unless it says otherwise. */
type Explained = Omit<SchemaMessage, 'target'> & Partial<Pick<SchemaMessage, 'target'>>;

/** YAML reads `.inf`, `.nan` and out-of-range literals as numbers that no field accepts. */
const NOT_FINITE_HINT = 'numbers must be finite: .inf, .nan and numbers beyond ±1.8e308 (such as 1e309) are not';

function explain(error: ErrorObject, document: unknown): Explained {
  const explained = explainKeyword(error, document);
  const value = valueAt(document, pointerSegments(error.instancePath));
  return typeof value === 'number' && !Number.isFinite(value) ? { ...explained, hint: NOT_FINITE_HINT } : explained;
}

function explainKeyword(error: ErrorObject, document: unknown): Explained {
  const segments = pointerSegments(error.instancePath);
  const last = segments[segments.length - 1];
  // The full path is printed in front of every message; the message names just the field.
  const field = typeof last === 'string' ? `\`${last}\`` : `\`${formatPath(segments)}\``;
  const value = valueAt(document, segments);
  const schema = error.parentSchema as JsonSchema | undefined;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'discriminator': {
      const list = segments.includes('augment') ? 'augmentation' : 'layer';
      const allowed = discriminatorValues(list);
      if (params.error === 'tag') return { segments, message: `${list} entry has no \`type\``, hint: `add a type, one of: ${allowed.join(', ')}` };
      const found = String(params.tagValue);
      const guess = suggest(found, allowed);
      return {
        segments: [...segments, 'type'],
        message: `unknown ${list} type \`${found}\`${guess ? `; did you mean \`${guess}\`?` : ''}`,
        hint: guess ? undefined : `known ${list} types: ${allowed.join(', ')}`,
      };
    }
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const allowed = Object.keys(schema?.properties ?? {});
      const guess = suggest(name, allowed);
      const owner = ownerName(document, segments);
      const target = [...segments, name];
      if (segments.length === 0 || !owner) {
        return { segments, target, key: name, guess, message: `unknown field \`${name}\`${guess ? `; did you mean \`${guess}\`?` : ''}`, hint: guess ? undefined : `allowed here: ${allowed.join(', ')}` };
      }
      return {
        segments,
        target,
        key: name,
        guess,
        message: `unknown field \`${name}\` for ${owner}${guess ? `; did you mean \`${guess}\`?` : ''}`,
        hint: guess ? undefined : `${owner} takes: ${allowed.join(', ')}`,
      };
    }
    case 'required': {
      const missing = String(params.missingProperty);
      const owner = ownerName(document, segments);
      const about = schema?.properties?.[missing]?.description;
      return { segments, target: [...segments, missing], message: `${owner ?? 'the experiment'} needs \`${missing}\``, hint: about ? `${missing}: ${about}` : undefined };
    }
    case 'oneOf':
      return { segments, message: `${field} must be ${describe(schema)}, got ${show(value)}` };
    case 'enum': {
      const allowed = (schema?.enum ?? []).map(String);
      const guess = typeof value === 'string' ? suggest(value, allowed) : undefined;
      return { segments, message: `${field} must be one of ${allowed.join(', ')}; got ${show(value)}${guess ? `; did you mean \`${guess}\`?` : ''}` };
    }
    case 'const':
      return { segments, message: `${field} must be ${show(schema?.const)}, got ${show(value)}` };
    case 'minItems':
      if (Array.isArray(value) && value.length === 0) {
        return { segments, message: `${formatPath(segments)} needs at least one ${last === 'layers' ? 'layer' : 'value'}` };
      }
      return { segments, message: `${field} must be ${describe(schema)}, got ${show(value)}` };
    case 'type':
      // A field that takes any value (a sweep value) refuses only numbers that are not finite.
      if (describe(schema) === 'a value') return { segments, message: `${field} must be a finite number, got ${show(value)}` };
      return { segments, message: `${field} must be ${describe(schema)}, got ${show(value)}` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'maxItems':
    case 'minProperties':
    case 'maxProperties':
      return { segments, message: `${field} must be ${describe(schema)}, got ${show(value)}` };
    case 'pattern':
      if (error.propertyName !== undefined) {
        return { segments, target: [...segments, error.propertyName], key: error.propertyName, message: `sweep key ${show(error.propertyName)} must be a dotted path such as train.optimizer.learningRate` };
      }
      return { segments, message: `${field} ${patternMessage(segments)}, got ${show(value)}` };
    case 'false schema':
      return { segments, message: `${field}: ${error.message ?? 'invalid'}` };
    default:
      return { segments, message: `${field} ${error.message ?? 'is invalid'}, got ${show(value)}` };
  }
}

function patternMessage(segments: (string | number)[]): string {
  const last = segments[segments.length - 1];
  if (last === 'name' && segments.length === 1) return 'must be letters, digits, dot, dash or underscore, starting with a letter or digit';
  if (last === 'name') return 'must be an identifier (letters, digits, underscore; not starting with a digit)';
  if (last === 'timeBudget') return 'must be a number and a unit (s, m, h or d), such as 90m, 2h or 45s';
  return 'has the wrong form';
}

/** "a conv2d layer" / "an augmentation randomFlip" / "train" for messages that concern a whole object. */
function ownerName(document: unknown, segments: (string | number)[]): string | undefined {
  const value = valueAt(document, segments);
  const type = value && typeof value === 'object' && 'type' in value ? String((value as { type: unknown }).type) : undefined;
  if (type && segments.includes('layers') && branchSchema('layer', type)) return `a ${type} layer`;
  if (type && segments.includes('augment') && branchSchema('augmentation', type)) return `augmentation ${type}`;
  return segments.length ? `\`${formatPath(segments)}\`` : undefined;
}

/** A schema in words: "a positive integer or a pair of positive integers". */
export function describe(schema: JsonSchema | undefined): string {
  if (!schema) return 'valid';
  const s = resolveRef(schema);
  if (s.oneOf) return [...new Set(s.oneOf.map(describe))].join(' or ');
  if (s.const !== undefined) return show(s.const);
  if (s.enum) return `one of ${s.enum.map(String).join(', ')}`;
  // A list of every JSON type accepts anything (sweep values); naming them all says nothing.
  if (Array.isArray(s.type) && s.type.length >= 6) return 'a value';
  const type = Array.isArray(s.type) ? s.type.join(' or ') : s.type;
  if (type === 'array') {
    const count = s.minItems !== undefined && s.minItems === s.maxItems ? s.minItems : undefined;
    const item = s.items ? plural(describe(s.items)) : 'values';
    if (count === 2) return `a pair of ${item}`;
    if (count !== undefined) return `a list of ${count} ${item}`;
    if (s.minItems !== undefined && s.maxItems !== undefined) return `a list of ${s.minItems} to ${s.maxItems} ${item}`;
    return s.minItems ? `a non-empty list of ${item}` : `a list of ${item}`;
  }
  if (type === 'integer' || type === 'number') return describeNumber(s, type);
  if (type === 'string') return 'a string';
  if (type === 'boolean') return 'true or false';
  // A mapping of one field out of a few (a distribution) is described by its fields.
  if (type === 'object' && s.maxProperties === 1 && s.properties) return `a mapping with one of ${Object.keys(s.properties).join(', ')}`;
  if (type === 'object') return 'a mapping';
  return String(type ?? 'valid');
}

function describeNumber(s: JsonSchema, type: 'integer' | 'number'): string {
  const noun = type === 'integer' ? 'integer' : 'number';
  const unbounded = s.maximum === undefined && s.exclusiveMaximum === undefined;
  if (s.minimum === 1 && unbounded && type === 'integer') return 'a positive integer';
  if (s.minimum === 0 && unbounded) return `a non-negative ${noun}`;
  if (s.exclusiveMinimum === 0 && unbounded) return `a positive ${noun}`;
  const low = s.minimum !== undefined ? `[${s.minimum}` : s.exclusiveMinimum !== undefined ? `(${s.exclusiveMinimum}` : undefined;
  const high = s.maximum !== undefined ? `${s.maximum}]` : s.exclusiveMaximum !== undefined ? `${s.exclusiveMaximum})` : undefined;
  const article = noun === 'integer' ? 'an' : 'a';
  if (low && high) return `${article} ${noun} in ${low}, ${high}`;
  if (low) return `${article} ${noun} ${low.startsWith('[') ? '>=' : '>'} ${low.slice(1)}`;
  if (high) return `${article} ${noun} ${high.endsWith(']') ? '<=' : '<'} ${high.slice(0, -1)}`;
  return `${article} ${noun}`;
}

function plural(phrase: string): string {
  return phrase.replace(/^an? /, '').replace(/(integer|number|string|value|mapping)$/, '$1s');
}

export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return notFinite(value);
  if (typeof value === 'string') return JSON.stringify(value);
  // JSON would print a number that is not finite as null, inside a sweep value too.
  return JSON.stringify(value, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? notFinite(v) : v)) ?? String(value);
}

/** As YAML spells it. */
function notFinite(value: number): string {
  return Number.isNaN(value) ? '.nan' : value > 0 ? '.inf' : '-.inf';
}
