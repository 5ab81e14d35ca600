import type { Problem } from '../errors.js';
import { isAtOrBelow, isMapping, resolveDottedPath, setAt, type Segments } from './config-path.js';
import { formatPath } from './document-path.js';
import { optionPicks, samplingOf, showRange, type Sampling } from './distributions.js';
import type { Experiment, SweepAxis } from './experiment.types.js';
import { explainSchemaErrors, schemaRefused, show, type SchemaMessage } from './schema-messages.js';
import { experimentSchema, schemaErrors } from './schema.js';
import type { ExperimentSources } from './sources.js';

const KEY_PATTERN = new RegExp(experimentSchema.properties!.sweep!.propertyNames!.pattern!);

/**
 * Each sweep key must point at a field the schema knows, and each of its values must be valid there: each value of a
 * list or option of a choice, both ends of a range (and, for a range of real numbers, a value between them, which an
 * integer field refuses). Problems elsewhere in the file do not stop these checks; only a key under a part of the
 * file that is itself invalid is skipped, since its problem would be that one again in other words.
 */
export function sweepProblems(written: Experiment, sources: ExperimentSources, messages: SchemaMessage[]): Problem[] {
  const sweep: unknown = written.sweep;
  if (!isMapping(sweep)) return [];
  const broken = messages.map((m) => m.target).filter((target) => target[0] !== 'sweep');
  // A value the schema refused already (one that is not a finite number) has its problem; checking it here would repeat it.
  const refusedValues = new Set(messages.map((m) => formatPath(m.target)).filter((path) => path.startsWith('sweep.')));
  const base = structuredClone(written) as unknown as Record<string, unknown>;
  delete base.sweep;
  // Only the problems a value introduces are its own; the rest belong to the file and are reported once already.
  const baseProblems = new Set(explainSchemaErrors(schemaErrors(base), base).map(identity));
  const problems: Problem[] = [];
  const axes: { key: string; segments: Segments }[] = [];
  for (const [key, values] of Object.entries(sweep as Record<string, unknown>)) {
    if (!KEY_PATTERN.test(key) || !(Array.isArray(values) || isMapping(values))) continue; // the schema check reports both
    const parts = key.split('.');
    if (broken.some((target) => isAtOrBelow(parts, target))) continue;
    const atKey = (details: Pick<Problem, 'message' | 'hint'>) => sources.problem(['sweep'], { path: `sweep.${key}`, ...details }, key);
    const target = resolveDottedPath(written, key);
    if (!target.ok) {
      problems.push(atKey({ message: `sweep path \`${key}\` points at nothing: ${target.reason}`, hint: target.hint }));
      continue;
    }
    if (broken.some((b) => isAtOrBelow(target.segments, b))) continue;
    const root = target.segments[0];
    if (root === 'sweep' || root === 'repeat' || root === 'name' || root === 'search') {
      problems.push(atKey({ message: `sweep path \`${key}\` cannot vary \`${root}\``, hint: 'sweep over fields of data, model, train or augment' }));
      continue;
    }
    const overlapping = axes.find(({ segments }) => isAtOrBelow(segments, target.segments) || isAtOrBelow(target.segments, segments));
    if (overlapping) {
      problems.push(atKey(overlap(key, target.segments, overlapping)));
      continue;
    }
    axes.push({ key, segments: target.segments });
    // A distribution the schema refused (no pair, a kind misspelt) has no values to check yet.
    if (isMapping(values) && schemaRefused(messages, ['sweep', key])) continue;
    const sampling = samplingOf(values as SweepAxis);
    if (sampling.kind !== 'choice' && sampling.low >= sampling.high) {
      problems.push(
        sources.problem(['sweep', key, sampling.kind], {
          path: `sweep.${key}.${sampling.kind}`,
          message: `${showRange(sampling)} for \`${key}\` needs its low end below its high end`,
          hint: `write [low, high]${sampling.low === sampling.high ? `; to fix the value, drop the sweep key and set \`${key}\` to ${sampling.low}` : ''}`,
        }),
      );
      continue;
    }
    for (const { value, at, about, hint } of valuesToCheck(key, sampling)) {
      if (refusedValues.has(formatPath(at))) continue;
      const trial = structuredClone(base);
      setAt(trial, target.segments, value);
      const introduced = explainSchemaErrors(schemaErrors(trial), trial).filter((m) => !baseProblems.has(identity(m)));
      // A path through an unknown field fails for every value alike: one problem at the key, not one per value.
      const unknown = introduced.find((m) => m.key !== undefined && isAtOrBelow(target.segments, m.target));
      if (unknown) {
        problems.push(atKey(pointsAtNothing(key, unknown)));
        break;
      }
      const first = introduced[0];
      if (first) {
        problems.push(
          sources.problem(at, {
            path: formatPath(at),
            message: `sweep value ${show(value)}${about ? ` (${about})` : ''} for \`${key}\` is invalid: ${first.message}`,
            hint: hint ?? first.hint,
          }),
        );
      }
    }
  }
  return problems;
}

/**
 * The values of an axis that stand for all it gives: a list's values and a choice's options, or a range's ends, and
 * for a range of real numbers one value between them that is not whole, which an integer field refuses (with a hint
 * of its own: the whole numbers it wants come from `int`).
 */
function valuesToCheck(key: string, sampling: Sampling): { value: unknown; at: Segments; about?: string; hint?: string }[] {
  if (sampling.kind === 'choice') return optionPicks(key, sampling);
  const { kind, low, high } = sampling;
  const ends = [
    { value: low, at: ['sweep', key, kind, 0], about: `the low end of ${kind}` },
    { value: high, at: ['sweep', key, kind, 1], about: `the high end of ${kind}` },
  ];
  if (kind === 'int') return ends;
  // Past a whole low end by half a unit (or half the range, when narrower), so never whole itself.
  const between = Number.isInteger(low) ? low + Math.min(0.5, (high - low) / 2) : low;
  if (between === low) return ends;
  return [...ends, { value: between, at: ['sweep', key, kind], about: 'a value drawn between the ends', hint: `the field takes whole numbers: sample it with { int: [${low}, ${high}] }` }];
}

/**
 * Two axes on one field (by name and by index), or one inside the other's values: a trial would take whichever the
 * grid set last, and the grid would count trials that differ in nothing.
 */
function overlap(key: string, segments: Segments, other: { key: string; segments: Segments }): Pick<Problem, 'message' | 'hint'> {
  if (segments.length === other.segments.length) {
    return { message: `sweep keys \`${other.key}\` and \`${key}\` both sweep \`${formatPath(segments)}\``, hint: 'give all its values in one of them' };
  }
  const [outer, inner] = segments.length < other.segments.length ? [key, other.key] : [other.key, key];
  return {
    message: `sweep keys \`${outer}\` and \`${inner}\` overlap: each value of \`${outer}\` replaces the field \`${inner}\` sweeps`,
    hint: `sweep one of them: write \`${inner.slice(outer.length + 1)}\` into each value of \`${outer}\`, or sweep only the fields inside it`,
  };
}

function identity(m: SchemaMessage): string {
  return `${formatPath(m.target)}|${m.message}`;
}

/** The target's segments line up with the key's parts, so the typo's part can be swapped for the guess. */
function pointsAtNothing(key: string, unknown: SchemaMessage): Pick<Problem, 'message' | 'hint'> {
  const parts = key.split('.');
  const depth = unknown.target.length - 1;
  const parent = parts.slice(0, depth).join('.');
  const corrected = unknown.guess ? [...parts.slice(0, depth), unknown.guess, ...parts.slice(depth + 1)].join('.') : undefined;
  return {
    message: `sweep path \`${key}\` points at nothing: ${parent ? `\`${parent}\`` : 'the experiment'} has no field \`${unknown.key}\`${corrected ? `; did you mean \`${corrected}\`?` : ''}`,
    hint: corrected ? undefined : unknown.hint,
  };
}
