import { parse as parseYamlValue } from 'yaml';
import { UserError, type Problem } from '../errors.js';
import { problemsIn } from '../ui/problems.js';
import { isAtOrBelow, isMapping, refusedPath, resolveDottedPath, setAt, valueAt, type Segments } from './config-path.js';
import { formatPath } from './document-path.js';
import { firstValue, samplingOf } from './distributions.js';
import type { Experiment, SweepAxis } from './experiment.types.js';
import { resolveDefaults } from './defaults.js';
import { readExperiment } from './extends.js';
import type { ResolvedExperiment, TrialConfig } from './resolved.js';
import { explainSchemaErrors, schemaRefused, show, type SchemaMessage } from './schema-messages.js';
import { schemaErrors } from './schema.js';
import { searchProblems } from './search-checks.js';
import type { ExperimentSources } from './sources.js';
import { sweepProblems } from './sweep-checks.js';
import { duplicateLayerNames } from './trial-checks.js';
import type { SweepFlag } from './sweep-flag.js';

/** A `--set path=value` from the command line. */
export interface Override {
  path: string;
  value: unknown;
  text: string;
}

export function parseOverride(text: string): Override {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UserError(`--set ${text}: expected path=value, e.g. --set train.epochs=1`);
  const path = text.slice(0, eq).trim();
  const refused = refusedPath(path);
  if (refused) throw new UserError(`--set ${text}: ${refused.reason}; ${refused.hint}`);
  const raw = text.slice(eq + 1);
  let value: unknown;
  try {
    value = parseYamlValue(raw);
  } catch {
    value = raw;
  }
  return { path, value, text };
}

export interface LoadedExperiment {
  file: string;
  /** Where each value came from: the file, a file it extends, or a flag. */
  sources: ExperimentSources;
  /** What the user wrote, the files it extends merged in, with --set and --sweep applied. */
  written: Experiment;
  resolved: ResolvedExperiment;
}

/**
 * A file that fails to load, with what of its model can still be checked: the model layer builds it shape-only
 * (loadExperimentWithModelChecks), so that one run of `validate` reports every problem.
 */
export class InvalidExperiment extends UserError {
  constructor(
    file: string,
    problems: Problem[],
    readonly sources: ExperimentSources,
    /** The model, its loss and seed with defaults; absent when the schema already found problems there. */
    readonly modelOnly: TrialConfig | undefined,
  ) {
    super(problemsIn(file, problems), problems);
  }
}

/**
 * File → validated, resolved experiment. The order is the documentation:
 * parse YAML and merge the files it extends → apply --set (a flag on a swept path replaces that axis) → add
 * --sweep axes → check against the schema → cross-field checks (sweep keys and values too) → fill defaults.
 * Throws an InvalidExperiment carrying every problem found, each with its line; the model's own are checked above
 * this layer.
 */
export function loadExperiment(file: string, overrides: readonly Override[] = [], sweeps: readonly SweepFlag[] = []): LoadedExperiment {
  const { document, sources, problems: mergeProblems } = readExperiment(file);
  const written = document as unknown as Experiment;
  const problems: Problem[] = [...mergeProblems];
  const overridden: { segments: Segments; override: Override }[] = [];
  for (const override of overrides) {
    const target = resolveDottedPath(written, override.path);
    if (!target.ok) {
      problems.push({ file, message: `--set ${override.text}: ${target.reason}`, hint: target.hint });
      continue;
    }
    setAt(written as unknown as Record<string, unknown>, target.segments, override.value);
    // A flag's value is the command line's, not the parent's that first wrote the field (a relative data.path included).
    sources.setOrigin(target.segments, { kind: 'flag', flag: `--set ${override.text}` });
    overridden.push({ segments: target.segments, override });
  }
  dropOverriddenAxes(written, overridden.map((o) => o.segments));
  problems.push(...setInsideSweptValues(written, sources, overridden));
  problems.push(...addSweepFlags(written, sources, sweeps, overridden));

  let messages = explainSchemaErrors(schemaErrors(written), written);
  if (fillRequiredFromSweep(written, messages)) messages = explainSchemaErrors(schemaErrors(written), written);
  for (const m of messages) {
    const path = formatPath(m.target);
    // An unknown field lies below the path a --set created when the flag itself is the typo (train.epochz=1, train.bogus.x=1).
    const fromFlag = overridden.find(({ segments }) => isAtOrBelow(m.target, segments) || (m.key !== undefined && isAtOrBelow(segments, m.target)));
    if (fromFlag) {
      problems.push({ file, path, message: `${m.message} (from --set ${fromFlag.override.text})`, hint: m.hint });
    } else {
      problems.push(sources.problem(m.segments, { path, message: m.message, hint: m.hint }, m.key));
    }
  }
  problems.push(...crossFieldProblems(written, sources, messages));
  if (problems.length > 0) {
    // Not when an edit of the inherited layers failed: the model lacks it, and its checks would say so in other words.
    throw new InvalidExperiment(file, sources.sort(problems), sources, mergeProblems.length === 0 ? checkableModel(written, messages, sources) : undefined);
  }

  return { file, sources, written, resolved: resolveDefaults(written, sources.fileOf(['data', 'path'])) };
}

/**
 * Each --sweep becomes an axis of the sweep, replacing the file's axis on the same field (however its path names
 * it, by layer name or index). A --set of the same field (or of a field around it) says the opposite, so it is an
 * error rather than a silent choice between them.
 */
function addSweepFlags(written: Experiment, sources: ExperimentSources, sweeps: readonly SweepFlag[], overridden: { segments: Segments; override: Override }[]): Problem[] {
  const problems: Problem[] = [];
  const file = sources.file;
  const added: { segments: Segments; flag: string }[] = [];
  if (sweeps.length > 0 && written.sweep === undefined) {
    written.sweep = {};
    sources.setOrigin(['sweep'], { kind: 'flag', flag: sweeps.map((s) => s.flag).join(' ') });
  }
  for (const sweep of sweeps) {
    const target = resolveDottedPath(written, sweep.path);
    if (target.ok) {
      const set = overridden.find(({ segments }) => isAtOrBelow(segments, target.segments) || isAtOrBelow(target.segments, segments));
      if (set) {
        problems.push({ file, message: `${sweep.flag} and --set ${set.override.text} both set \`${formatPath(set.segments)}\``, hint: 'drop one: --sweep tries each of its values, --set fixes one' });
        continue;
      }
      const twice = added.find(({ segments }) => formatPath(segments) === formatPath(target.segments));
      if (twice) {
        problems.push({ file, message: `${sweep.flag} and ${twice.flag} sweep the same field`, hint: 'give all its values in one --sweep' });
        continue;
      }
      added.push({ segments: target.segments, flag: sweep.flag });
    }
    const axes: unknown = written.sweep;
    if (!isMapping(axes)) continue; // the schema reports the sweep itself
    for (const key of Object.keys(axes)) {
      const axis = resolveDottedPath(written, key);
      if (target.ok && axis.ok && formatPath(axis.segments) === formatPath(target.segments)) delete axes[key];
    }
    axes[sweep.path] = sweep.values;
    sources.setOrigin(['sweep', sweep.path], { kind: 'flag', flag: sweep.flag });
  }
  return problems;
}

/** A --set on a swept path (or on a parent of it) replaces that sweep axis: the flag's single value wins. */
function dropOverriddenAxes(written: Experiment, overridden: Segments[]): void {
  const sweep = written.sweep;
  if (!isMapping(sweep)) return;
  for (const key of Object.keys(sweep)) {
    const axis = resolveDottedPath(written, key);
    if (axis.ok && overridden.some((segments) => isAtOrBelow(axis.segments, segments))) delete sweep[key];
  }
}

/**
 * A --set inside a swept field (`--set train.optimizer.momentum=0.9` over a sweep of whole `train.optimizer`
 * values) would be overwritten by every sweep value, so it is written into each value instead: every trial has it.
 * The options of a `choice` are values like a list's; a range's numbers have no fields to set.
 */
function setInsideSweptValues(written: Experiment, sources: ExperimentSources, overridden: { segments: Segments; override: Override }[]): Problem[] {
  const sweep: unknown = written.sweep;
  if (!isMapping(sweep)) return [];
  const problems: Problem[] = [];
  for (const [key, values] of Object.entries(sweep)) {
    const axis = resolveDottedPath(written, key);
    const within: Segments | undefined = Array.isArray(values) ? [] : isMapping(values) && Array.isArray(values.choice) ? ['choice'] : undefined;
    if (!axis.ok || !within) continue;
    for (const { segments, override } of overridden) {
      if (segments.length <= axis.segments.length || !isAtOrBelow(segments, axis.segments)) continue;
      // A dotted path has one part per segment, so the parts past the axis are the path inside each value.
      const inner = override.path.split('.').slice(axis.segments.length).join('.');
      const options = valueAt(sweep, [key, ...within]) as unknown[];
      const withSets = options.map((value, i) => {
        const target = value !== null && typeof value === 'object' ? resolveDottedPath(value, inner) : undefined;
        if (!target?.ok) {
          const at = ['sweep', key, ...within, i];
          problems.push(
            sources.problem(at, {
              path: formatPath(at),
              message: `--set ${override.text} sets \`${inner}\` inside each value of the swept \`${key}\`, but ${show(value)} ${target ? `has no such field: ${target.reason}` : 'is not a mapping'}`,
              hint: `sweep \`${override.path}\` itself, or write it into each value of \`${key}\``,
            }),
          );
          return value;
        }
        const withSet = structuredClone(value) as Record<string, unknown>;
        setAt(withSet, target.segments, override.value);
        return withSet;
      });
      setAt(sweep, [key, ...within], withSets);
    }
  }
  return problems;
}

/**
 * A field the schema requires may be left to the sweep (`units` of a layer whose `model.layers.1.units` is swept):
 * every trial sets it, so the file is filled with the axis's first value (a distribution's first option or low end) and
 * each value is checked on its own later.
 */
function fillRequiredFromSweep(written: Experiment, messages: SchemaMessage[]): boolean {
  const sweep: unknown = written.sweep;
  if (!isMapping(sweep)) return false;
  let filled = false;
  for (const [key, values] of Object.entries(sweep)) {
    // A distribution the schema refused (no pair, two kinds at once) has no value to lend; nor has an empty list.
    const first = Array.isArray(values) ? values[0] : schemaRefused(messages, ['sweep', key]) ? undefined : firstValue(samplingOf(values as SweepAxis));
    if (first === undefined) continue;
    const target = resolveDottedPath(written, key);
    if (!target.ok || valueAt(written, target.segments) !== undefined) continue;
    // Only a missing field the schema asked for: an unknown path stays the sweep check's to report.
    if (!messages.some((m) => m.key === undefined && formatPath(m.target) === formatPath(target.segments))) continue;
    setAt(written as unknown as Record<string, unknown>, target.segments, first);
    filled = true;
  }
  return filled;
}

/**
 * The model of a file that fails elsewhere (a typo in train.epochs, a bad sweep path) can still be built. Not when the
 * model or the loss has schema problems of its own: its checks would only repeat them in other words.
 */
function checkableModel(written: Experiment, messages: SchemaMessage[], sources: ExperimentSources): TrialConfig | undefined {
  const touchesModel = (target: (string | number)[]) =>
    target.length === 0 || target[0] === 'model' || (target[0] === 'train' && (target.length === 1 || target[1] === 'loss'));
  if (!written.model || messages.some((m) => touchesModel(m.target))) return undefined;
  const loss = written.train?.loss;
  const seed = schemaRefused(messages, ['train', 'seed']) ? undefined : written.train?.seed;
  const modelOnly: Experiment = { name: written.name ?? 'experiment', model: written.model, train: { ...(loss && { loss }), ...(seed !== undefined && { seed }) } };
  const { search: _search, ...config } = resolveDefaults(modelOnly, sources.file);
  return config;
}

/** Checks that need more than one field: unique layer names, the sweep's keys and values, then the search that samples them. */
function crossFieldProblems(written: Experiment, sources: ExperimentSources, messages: SchemaMessage[]): Problem[] {
  const names = duplicateLayerNames(written.model?.layers).map(({ segments, message, hint }) => sources.problem(segments, { path: formatPath(segments), message, hint }));
  return [...names, ...sweepProblems(written, sources, messages), ...searchProblems(written, sources, messages)];
}
