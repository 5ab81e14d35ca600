import { parse as parseYamlValue } from 'yaml';
import { UserError, type Problem } from '../errors.js';
import { isAtOrBelow, resolveDottedPath, setAt, valueAt, type Segments } from './config-path.js';
import { formatPath } from './document-path.js';
import type { Experiment } from './experiment.types.js';
import { readSourceFile, positionOf, type SourceFile } from './load.js';
import { resolveDefaults } from './defaults.js';
import { modelProblemsDespite } from './early-model-check.js';
import type { ResolvedExperiment } from './resolved.js';
import { explainSchemaErrors, type SchemaMessage } from './schema-messages.js';
import { schemaErrors } from './schema.js';
import { sweepProblems } from './sweep-checks.js';

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

/**
 * File → validated, resolved experiment. The order is the documentation:
 * parse YAML → apply --set (a flag on a swept path replaces that axis) → check against the schema →
 * cross-field checks (sweep keys and values too) → fill defaults.
 * Throws a UserError carrying every problem found, each with its line, the model's own included.
 */
export function loadExperiment(file: string, overrides: readonly Override[] = []): LoadedExperiment {
  const source = readSourceFile(file);
  if (!('doc' in source)) throw invalid(file, [source]);

  const written = (source.doc.toJS() ?? {}) as Experiment;
  if (typeof written !== 'object' || Array.isArray(written)) {
    throw invalid(file, [{ file, ...positionOf(source, []), message: 'an experiment file must be a YAML mapping (name:, model:, train: ...)' }]);
  }
  const problems: Problem[] = [];
  const overridden: { segments: Segments; override: Override }[] = [];
  for (const override of overrides) {
    const target = resolveDottedPath(written, override.path);
    if (!target.ok) {
      problems.push({ file, message: `--set ${override.text}: ${target.reason}`, hint: target.hint });
      continue;
    }
    setAt(written as unknown as Record<string, unknown>, target.segments, override.value);
    overridden.push({ segments: target.segments, override });
  }
  dropOverriddenAxes(written, overridden.map((o) => o.segments));

  let messages = explainSchemaErrors(schemaErrors(written), written);
  if (fillRequiredFromSweep(written, messages)) messages = explainSchemaErrors(schemaErrors(written), written);
  for (const m of messages) {
    const path = formatPath(m.target);
    // An unknown field lies below the path a --set created when the flag itself is the typo (train.epochz=1, train.bogus.x=1).
    const fromFlag = overridden.find(({ segments }) => isAtOrBelow(m.target, segments) || (m.key !== undefined && isAtOrBelow(segments, m.target)));
    if (fromFlag) {
      problems.push({ file, path, message: `${m.message} (from --set ${fromFlag.override.text})`, hint: m.hint });
    } else {
      problems.push({ file, ...positionOf(source, m.segments, m.key), path, message: m.message, hint: m.hint });
    }
  }
  problems.push(...crossFieldProblems(written, source, messages));
  if (problems.length > 0) {
    // The model is checked later for valid files; for invalid ones here, so that one run reports everything.
    problems.push(...modelProblemsDespite(written, messages, source));
    throw invalid(file, problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0)));
  }

  return { file, source, written, resolved: resolveDefaults(written, file) };
}

/** A --set on a swept path (or on a parent of it) replaces that sweep axis: the flag's single value wins. */
function dropOverriddenAxes(written: Experiment, overridden: Segments[]): void {
  const sweep = written.sweep;
  if (!sweep || typeof sweep !== 'object' || Array.isArray(sweep)) return;
  for (const key of Object.keys(sweep)) {
    const axis = resolveDottedPath(written, key);
    if (axis.ok && overridden.some((segments) => isAtOrBelow(axis.segments, segments))) delete sweep[key];
  }
}

/**
 * A field the schema requires may be left to the sweep (`units` of a layer whose `model.layers.1.units` is swept):
 * every trial sets it, so the file is filled with the axis's first value and each value is checked on its own later.
 */
function fillRequiredFromSweep(written: Experiment, messages: SchemaMessage[]): boolean {
  const sweep: unknown = written.sweep;
  if (!sweep || typeof sweep !== 'object' || Array.isArray(sweep)) return false;
  let filled = false;
  for (const [key, values] of Object.entries(sweep as Record<string, unknown>)) {
    if (!Array.isArray(values) || values.length === 0) continue;
    const target = resolveDottedPath(written, key);
    if (!target.ok || valueAt(written, target.segments) !== undefined) continue;
    // Only a missing field the schema asked for: an unknown path stays the sweep check's to report.
    if (!messages.some((m) => m.key === undefined && formatPath(m.target) === formatPath(target.segments))) continue;
    setAt(written as unknown as Record<string, unknown>, target.segments, values[0]);
    filled = true;
  }
  return filled;
}

function invalid(file: string, problems: Problem[]): UserError {
  return new UserError(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`, problems);
}

/** Checks that need more than one field: unique layer names, then the sweep's keys and values. */
function crossFieldProblems(written: Experiment, source: SourceFile, messages: SchemaMessage[]): Problem[] {
  const problems: Problem[] = [];
  const file = source.file;
  const seen = new Map<string, number>();
  const layers: unknown = written.model?.layers;
  (Array.isArray(layers) ? (layers as unknown[]) : []).forEach((layer, index) => {
    const name = layer && typeof layer === 'object' ? (layer as { name?: unknown }).name : undefined;
    if (typeof name !== 'string') return;
    const first = seen.get(name);
    if (first !== undefined) {
      problems.push({
        file,
        ...positionOf(source, ['model', 'layers', index, 'name']),
        path: formatPath(['model', 'layers', index, 'name']),
        message: `layer name \`${name}\` is already used by model.layers[${first}]`,
        hint: 'layer names must be unique so that sweep paths can address them',
      });
    } else seen.set(name, index);
  });
  return [...problems, ...sweepProblems(written, source, messages)];
}
