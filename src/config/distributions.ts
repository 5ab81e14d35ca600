import stableStringify from 'fast-json-stable-stringify';
import type { SeededRandom } from '../random.js';
import { isMapping, type Segments } from './config-path.js';
import type { Distribution, SweepAxis } from './experiment.types.js';

/** Numbers drawn between two ends: `uniform`, `logUniform` (evenly on a log scale) or `int` (whole, both ends included). */
export interface Range {
  kind: 'uniform' | 'logUniform' | 'int';
  low: number;
  high: number;
}

/** Values picked with equal chances: a `choice`, or a plain list under random search. */
export interface Choice {
  kind: 'choice';
  options: unknown[];
  /** Where the options are written below the sweep key: `['choice']` for a choice, `[]` for a plain list. */
  within: Segments;
}

/** Each option of a choice (or value of a list) under sweep key `key`, with where it is written in the file. */
export function optionPicks(key: string, choice: Choice): { value: unknown; at: Segments }[] {
  return choice.options.map((value, i) => ({ value, at: ['sweep', key, ...choice.within, i] }));
}

/** What random search samples one sweep key from. */
export type Sampling = Range | Choice;

/** One sampled value, with where it was written below its sweep key (an option's index, or the range itself). */
export interface Sample {
  value: unknown;
  at: Segments;
}

const RANGE_KINDS = ['uniform', 'logUniform', 'int'] as const;

/**
 * Significant digits kept of a sampled real number: labels stay readable, and the value (so the trial's hash) is
 * the same on every platform, whatever the last bits of Math.log and Math.exp.
 */
export const SAMPLE_DIGITS = 4;

/** A sweep key's values are a distribution when written as a mapping (`{ uniform: [0.1, 0.5] }`), a list otherwise. */
function isDistribution(axis: SweepAxis): axis is Distribution {
  return isMapping(axis);
}

/** What a schema-valid sweep axis samples from: a list is a choice among its values. */
export function samplingOf(axis: SweepAxis): Sampling {
  if (!isDistribution(axis)) return { kind: 'choice', options: axis, within: [] };
  if (axis.choice) return { kind: 'choice', options: axis.choice, within: ['choice'] };
  const kind = RANGE_KINDS.find((k) => axis[k] !== undefined)!;
  const [low, high] = axis[kind]!;
  return { kind, low, high };
}

/** One value drawn from `sampling`; a real number is rounded to SAMPLE_DIGITS and kept within the range's ends. */
export function sample(sampling: Sampling, random: SeededRandom): Sample {
  if (sampling.kind === 'choice') {
    const index = Math.floor(random.next() * sampling.options.length);
    return { value: sampling.options[index], at: [...sampling.within, index] };
  }
  const { kind, low, high } = sampling;
  if (kind === 'int') return { value: low + Math.floor(random.next() * (high - low + 1)), at: [kind] };
  const drawn = kind === 'uniform' ? random.uniform(low, high) : Math.exp(random.uniform(Math.log(low), Math.log(high)));
  // Rounding may step past an end that has more digits; the ends themselves are valid values.
  return { value: Math.min(high, Math.max(low, roundToSampleDigits(drawn))), at: [kind] };
}

function roundToSampleDigits(value: number): number {
  return Number(value.toPrecision(SAMPLE_DIGITS));
}

/** How many different values `sampling` can give, or Infinity for a range of real numbers. */
export function distinctValueCount(sampling: Sampling): number {
  if (sampling.kind === 'choice') return new Set(sampling.options.map((option) => stableStringify(option))).size;
  return sampling.kind === 'int' ? sampling.high - sampling.low + 1 : Infinity;
}

/** `{ uniform: [0.1, 0.5] }`, as a message shows a distribution. */
export function showRange(sampling: Range): string {
  return `{ ${sampling.kind}: [${sampling.low}, ${sampling.high}] }`;
}

/** A value the sampling can give: its first option, or its low end. */
export function firstValue(sampling: Sampling): unknown {
  return sampling.kind === 'choice' ? sampling.options[0] : sampling.low;
}
