import { UserError } from '../errors.js';

export function positiveInteger(name: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) throw new UserError(`${name} must be a positive integer, got ${JSON.stringify(text)}`);
    return value;
  };
}

/**
 * A number of seconds from an environment variable, or undefined when it is unset or empty; it must be above `above`
 * or at least `atLeast`.
 */
export function secondsFromEnvironment(name: string, bound: { above: number } | { atLeast: number }): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const seconds = Number(text);
  const fits = 'above' in bound ? seconds > bound.above : seconds >= bound.atLeast;
  if (!Number.isFinite(seconds) || !fits) {
    const wanted = 'above' in bound ? (bound.above === 0 ? 'a positive number of seconds' : `a number of seconds above ${bound.above}`) : `a number of seconds, at least ${bound.atLeast}`;
    throw new UserError(`${name} must be ${wanted}, got ${JSON.stringify(text)}`);
  }
  return seconds;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
