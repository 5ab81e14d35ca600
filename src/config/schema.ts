import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { packageRoot } from '../package-root.js';

/** The experiment format's single source of truth; validation, editor help and the TypeScript types all come from it. */
export const experimentSchema = JSON.parse(readFileSync(join(packageRoot, 'schemas', 'experiment.schema.json'), 'utf8')) as JsonSchema;

export interface JsonSchema {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  propertyNames?: JsonSchema;
  pattern?: string;
  required?: string[];
  default?: unknown;
  description?: string;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
}

/** The largest train.seed: the runner's generators and tfjs's initializers take 32-bit seeds. */
export const MAX_SEED = experimentSchema.$defs!.train!.properties!.seed!.maximum!;

let compiled: { strict: ValidateFunction; withDefaults: ValidateFunction } | undefined;

function validators() {
  if (!compiled) {
    // strictNumbers: .inf, .nan and 1e309 are no numbers a trial can use (and would hash as null).
    const options = { allErrors: true, discriminator: true, strict: false, strictNumbers: true, verbose: true } as const;
    compiled = {
      strict: new Ajv(options).compile(experimentSchema),
      withDefaults: new Ajv({ ...options, useDefaults: true }).compile(experimentSchema),
    };
  }
  return compiled;
}

/** Schema errors of a raw document, as ajv reports them. */
export function schemaErrors(value: unknown): ErrorObject[] {
  const validate = validators().strict;
  return validate(value) ? [] : [...(validate.errors ?? [])];
}

/** Fills every default the schema declares into `value` (mutates it); `value` must already be valid. */
export function fillSchemaDefaults(value: unknown): void {
  validators().withDefaults(value);
}

export function resolveRef(schema: JsonSchema): JsonSchema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace('#/$defs/', '');
  return { ...experimentSchema.$defs![name], ...schema, $ref: undefined };
}

/** Allowed `type` values of a discriminated list (layers or augmentations). */
export function discriminatorValues(defName: 'layer' | 'augmentation'): string[] {
  return experimentSchema.$defs![defName]!.oneOf!.map((branch) => String(resolveRef(branch).properties!.type!.const));
}

/** The schema of one layer or augmentation type. */
export function branchSchema(defName: 'layer' | 'augmentation', type: string): JsonSchema | undefined {
  return experimentSchema.$defs![defName]!.oneOf!.map(resolveRef).find((s) => s.properties?.type?.const === type);
}
