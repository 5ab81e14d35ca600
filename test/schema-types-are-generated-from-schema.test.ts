import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { experimentSchema, resolveRef, type JsonSchema } from '../src/config/schema.js';
import { ROOT } from './helpers/cli.js';

/** `definition.field` of every property of the experiment, its definitions and their nested objects, that `matches`. */
function fieldsWhere(matches: (field: string, schema: JsonSchema) => boolean): string[] {
  const found: string[] = [];
  const walk = (owner: string, schema: JsonSchema) => {
    for (const [field, property] of Object.entries(schema.properties ?? {})) {
      if (matches(field, property)) found.push(`${owner}.${field}`);
      if (property.properties) walk(`${owner}.${field}`, property);
    }
  };
  walk('(experiment)', experimentSchema);
  for (const [name, definition] of Object.entries(experimentSchema.$defs ?? {})) walk(name, definition);
  return found;
}

describe('the experiment schema is the single source of truth', () => {
  it('the committed TypeScript types are exactly what the schema generates', () => {
    expect(() => execFileSync(process.execPath, [join(ROOT, 'scripts', 'gen-types.mjs'), '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('every field, nested ones included, has a description of its own or from the definition it refers to', () => {
    const undocumented = fieldsWhere((field, schema) => {
      // A layer's or augmentation's `type` is its tag: the entry's own description explains it.
      if (field === 'type' && schema.const !== undefined) return false;
      return !schema.description && !(schema.$ref && resolveRef({ $ref: schema.$ref }).description);
    });
    expect(undocumented).toEqual([]);
  });

  it('every numeric field offers its default or an example, so an editor can suggest a sensible value', () => {
    const numeric = (s: JsonSchema) => ['number', 'integer'].includes(String(s.type)) || (s.oneOf ?? []).some((o) => ['number', 'integer'].includes(String(o.type)));
    const bare = fieldsWhere((_, schema) => {
      const target = schema.$ref ? resolveRef(schema) : schema;
      return numeric(target) && target.default === undefined && !(target as { examples?: unknown[] }).examples;
    });
    expect(bare).toEqual([]);
  });

  it('every experiment file carries the yaml-language-server schema comment', () => {
    const dir = join(ROOT, 'experiments');
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const schema = relative(dirname(join(dir, file)), join(ROOT, 'schemas', 'experiment.schema.json'));
      expect(readFileSync(join(dir, file), 'utf8').split('\n')[0], file).toBe(`# yaml-language-server: $schema=${schema}`);
    }
  });
});
