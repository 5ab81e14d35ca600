import { closest, distance } from 'fastest-levenshtein';

/** The candidate a typo most likely meant, or undefined when nothing is close enough to be helpful. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const sameIgnoringCase = candidates.find((c) => c.toLowerCase() === word.toLowerCase());
  if (sameIgnoringCase) return sameIgnoringCase;
  const best = closest(word, candidates as string[]);
  return distance(word, best) <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
