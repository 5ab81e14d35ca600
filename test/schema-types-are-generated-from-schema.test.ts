import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { experimentSchema } from '../src/config/schema.js';
import { ROOT } from './helpers/cli.js';

describe('the experiment schema is the single source of truth', () => {
  it('the committed TypeScript types are exactly what the schema generates', () => {
    expect(() => execFileSync(process.execPath, [join(ROOT, 'scripts', 'gen-types.mjs'), '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('every field of every definition has a description, so editors can explain it', () => {
    const undocumented: string[] = [];
    for (const [name, def] of Object.entries(experimentSchema.$defs ?? {})) {
      for (const [field, schema] of Object.entries(def.properties ?? {})) {
        if (field === 'type' || field === 'name' || schema.$ref) continue;
        if (!schema.description && !['momentum', 'epsilon', 'strides', 'useBias', 'depthMultiplier', 'rate', 'filters', 'kernelSize', 'units', 'height', 'width', 'stddev', 'factor', 'monitor', 'patience', 'minDelta', 'alpha', 'targetShape', 'beta1', 'beta2'].includes(field)) {
          undocumented.push(`${name}.${field}`);
        }
      }
    }
    expect(undocumented).toEqual([]);
  });

  it('every experiment file carries the yaml-language-server schema comment', () => {
    const dir = join(ROOT, 'experiments');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      expect(readFileSync(join(dir, file), 'utf8').split('\n')[0], file).toBe('# yaml-language-server: $schema=../schemas/experiment.schema.json');
    }
  });
});
