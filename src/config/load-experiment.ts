import { dirname, resolve as resolvePath } from 'node:path';
import { parse as parseYamlValue } from 'yaml';
import { UserError, type Problem } from '../errors.js';
import { resolveDottedPath, setAt } from './config-path.js';
import { formatPath } from './document-path.js';
import type { Experiment } from './experiment.types.js';
import { readSourceFile, positionOf, type SourceFile } from './load.js';
import type { ResolvedExperiment } from './resolved.js';
import { explainSchemaErrors } from './schema-messages.js';
import { fillSchemaDefaults, schemaErrors } from './schema.js';

/** A `--set path=value` from the command line. */
export interface Override {
  path: string;
  value: unknown;
  text: string;
}

export function parseOverride(text: string): Override {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UserError(`--set ${text}: expected path=value, e.g. --set train.epochs=1`);
  const raw = text.slice(eq + 1);
  let value: unknown;
  try {
    value = parseYamlValue(raw);
  } catch {
    value = raw;
  }
  return { path: text.slice(0, eq).trim(), value, text };
}

export interface LoadedExperiment {
  file: string;
  source: SourceFile;
  /** What the user wrote, with --set applied. */
  written: Experiment;
  resolved: ResolvedExperiment;
}

/** Keras's default learning rate of each optimizer, used when the file gives none. */
const DEFAULT_LEARNING_RATE: Record<string, number> = { sgd: 0.01, adam: 0.001, rmsprop: 0.001, adagrad: 0.01, adadelta: 1.0, adamax: 0.002 };

/**
 * File → validated, resolved experiment. The order is the documentation:
 * parse YAML → apply --set → check against the schema → cross-field checks → fill defaults.
 * Throws a UserError carrying every problem found, each with its line.
 */
export function loadExperiment(file: string, overrides: readonly Override[] = []): LoadedExperiment {
  const source = readSourceFile(file);
  if (!('doc' in source)) throw invalid(file, [source]);

  const written = (source.doc.toJS() ?? {}) as Experiment;
  if (typeof written !== 'object' || Array.isArray(written)) {
    throw invalid(file, [{ file, ...positionOf(source, []), message: 'an experiment file must be a YAML mapping (name:, model:, train: ...)' }]);
  }
  const problems: Problem[] = [];
  const overridden = new Map<string, Override>();
  for (const override of overrides) {
    const target = resolveDottedPath(written, override.path);
    if (!target.ok) {
      problems.push({ file, message: `--set ${override.text}: ${target.reason}`, hint: target.hint });
      continue;
    }
    setAt(written as unknown as Record<string, unknown>, target.segments, override.value);
    overridden.set(formatPath(target.segments), override);
  }

  for (const m of explainSchemaErrors(schemaErrors(written), written)) {
    const path = formatPath(m.segments);
    const fromFlag = [...overridden.entries()].find(([p]) => path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`));
    if (fromFlag) {
      problems.push({ file, path, message: `${m.message} (from --set ${fromFlag[1].text})`, hint: m.hint });
    } else {
      problems.push({ file, ...positionOf(source, m.segments, m.key), path, message: m.message, hint: m.hint });
    }
  }
  if (problems.length === 0) problems.push(...crossFieldProblems(written, source));
  if (problems.length > 0) throw invalid(file, problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0)));

  return { file, source, written, resolved: resolveDefaults(written, file) };
}

function invalid(file: string, problems: Problem[]): UserError {
  return new UserError(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`, problems);
}

/** Checks that need more than one field: unique layer names, sweep paths that point at something. */
function crossFieldProblems(written: Experiment, source: SourceFile): Problem[] {
  const problems: Problem[] = [];
  const file = source.file;
  const seen = new Map<string, number>();
  written.model.layers.forEach((layer, index) => {
    if (!layer.name) return;
    const first = seen.get(layer.name);
    if (first !== undefined) {
      problems.push({
        file,
        ...positionOf(source, ['model', 'layers', index, 'name']),
        path: formatPath(['model', 'layers', index, 'name']),
        message: `layer name \`${layer.name}\` is already used by model.layers[${first}]`,
        hint: 'layer names must be unique so that sweep paths can address them',
      });
    } else seen.set(layer.name, index);
  });
  for (const [key, values] of Object.entries(written.sweep ?? {})) {
    const at = positionOf(source, ['sweep', key], key);
    const target = resolveDottedPath(written, key);
    if (!target.ok) {
      problems.push({ file, ...at, path: `sweep.${key}`, message: `sweep path \`${key}\` points at nothing: ${target.reason}`, hint: target.hint });
      continue;
    }
    if (target.segments[0] === 'sweep' || target.segments[0] === 'repeat' || target.segments[0] === 'name') {
      problems.push({ file, ...at, path: `sweep.${key}`, message: `sweep path \`${key}\` cannot vary \`${target.segments[0]}\``, hint: 'sweep over fields of data, model, train or augment' });
      continue;
    }
    values.forEach((value, i) => {
      const trial = structuredClone(written) as unknown as Record<string, unknown>;
      delete trial.sweep;
      setAt(trial, target.segments, value);
      const errors = explainSchemaErrors(schemaErrors(trial), trial);
      const first = errors[0];
      if (first) {
        problems.push({
          file,
          ...positionOf(source, ['sweep', key, i]),
          path: `sweep.${key}[${i}]`,
          message: `sweep value ${JSON.stringify(value)} for \`${key}\` is invalid: ${first.message}`,
          hint: first.hint,
        });
      }
    });
  }
  return problems;
}

function resolveDefaults(written: Experiment, file: string): ResolvedExperiment {
  const config = structuredClone(written) as Experiment & Record<string, unknown>;
  config.data ??= {};
  config.train ??= {};
  config.train.optimizer ??= { name: 'adam' };
  config.model.input ??= [28, 28, 1];
  fillSchemaDefaults(config);
  const optimizer = config.train.optimizer!;
  optimizer.learningRate ??= DEFAULT_LEARNING_RATE[optimizer.name ?? 'adam'];
  if (config.data.path) config.data.path = resolvePath(dirname(file), config.data.path);
  return { ...config, sweep: config.sweep ?? {} } as ResolvedExperiment;
}
