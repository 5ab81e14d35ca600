import { parse as parseYaml } from 'yaml';
import { UserError } from '../errors.js';
import { refusedPath } from './config-path.js';

/** A `--sweep path=values` from the command line: one sweep axis, added to the file's or replacing its axis on that path. */
export interface SweepFlag {
  path: string;
  values: unknown[];
  /** The flag as typed, for messages: `--sweep train.epochs=1,2`. */
  flag: string;
}

const EXAMPLE = 'e.g. --sweep train.optimizer.name=adam,sgd, --sweep train.batchSize=range(32,128,32) or --sweep train.optimizer.learningRate=logrange(1e-4,1e-2,3)';

/** Significant digits kept of computed values, so that 0.1 + 0.2 is 0.3 and 1e-4 · 10 is 0.001. */
const DIGITS = 12;

/** Values beyond any grid the --max-trials limit would let through: a step typed wrong, not a sweep. */
const MOST_VALUES = 100_000;

/**
 * `path=a,b,c` (each value a YAML scalar), `path=[a, b]` (a YAML flow list, for values that are lists themselves),
 * `path=range(start,stop,step)` (stop included when a step lands on it) or `path=logrange(start,stop,count)`
 * (count values spaced evenly on a log scale, both ends included).
 */
export function parseSweepFlag(text: string): SweepFlag {
  const flag = `--sweep ${text}`;
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UserError(`${flag}: expected path=values, ${EXAMPLE}`);
  const path = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1).trim();
  const fail = (reason: string): never => {
    throw new UserError(`${flag}: ${reason}`);
  };
  const refused = refusedPath(path);
  if (refused) fail(`${refused.reason}; ${refused.hint}`);
  const call = /^(range|logrange)\((.*)\)$/.exec(raw);
  if (call) {
    const args = call[2]!.split(',').map((a) => a.trim());
    const numbers = args.map(Number);
    if (args.length !== 3 || args.some((a) => a === '') || !numbers.every(Number.isFinite)) {
      fail(`${call[1]} takes three numbers: ${call[1] === 'range' ? 'range(start,stop,step)' : 'logrange(start,stop,count)'}`);
    }
    const [start, stop, third] = numbers as [number, number, number];
    return { path, flag, values: call[1] === 'range' ? range(start, stop, third, fail) : logRange(start, stop, third, fail) };
  }
  let values: unknown;
  try {
    values = parseYaml(raw.startsWith('[') ? raw : `[${raw}]`);
  } catch (error) {
    fail(`the values are not a comma-separated list of YAML values: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!Array.isArray(values) || values.length === 0) fail(`no values to sweep over; ${EXAMPLE}`);
  return { path, flag, values: values as unknown[] };
}

function range(start: number, stop: number, step: number, fail: (reason: string) => never): number[] {
  if (step === 0 || Math.sign(stop - start) * Math.sign(step) < 0) fail(`range(${start},${stop},${step}) never reaches its stop: the step must move from start towards stop`);
  // The tolerance lets a stop that a step lands on up to rounding (0.1, 0.2, 0.3) count as reached.
  const steps = (stop - start) / step;
  const count = Math.floor(steps + 1e-9 * Math.max(1, steps)) + 1;
  if (count > MOST_VALUES) fail(`range(${start},${stop},${step}) gives ${count} values`);
  return Array.from({ length: count }, (_, i) => round(start + i * step));
}

function logRange(start: number, stop: number, count: number, fail: (reason: string) => never): number[] {
  if (start <= 0 || stop <= 0) fail(`logrange(${start},${stop},${count}) needs a positive start and stop`);
  if (!Number.isInteger(count) || count < 2 || count > MOST_VALUES) fail(`logrange's count must be a whole number of values from 2 (both ends), got ${count}`);
  const ratio = Math.log(stop / start);
  return Array.from({ length: count }, (_, i) => round(start * Math.exp((ratio * i) / (count - 1))));
}

function round(value: number): number {
  return Number(value.toPrecision(DIGITS));
}
