import { createHash } from 'node:crypto';
import stableStringify from 'fast-json-stable-stringify';
import type { TrialConfig } from '../config/resolved.js';

/** A trial's identity across invocations, files and branches: what its hash is taken of, seed included. */
export function trialHash(config: TrialConfig): string {
  return digest(trialIdentity(config), 16);
}

/** The trial's identity without its seed: repeats of one trial share it, so reports pool them and diffs pair them across branches. */
export function seedlessIdentity(config: TrialConfig) {
  const identity = trialIdentity(config);
  const { seed: _seed, ...train } = identity.train;
  return { ...identity, train };
}

/** A short name for the seedless identity, for telling apart configs whose swept values look alike. */
export function seedlessHash(config: TrialConfig): string {
  return digest(seedlessIdentity(config), 8);
}

/** Description and data location do not change what a trial computes, so they stay out of its identity. */
function trialIdentity(config: TrialConfig): Omit<TrialConfig, 'description'> {
  const { description: _description, ...identity } = config;
  const { path: _path, ...data } = identity.data;
  return { ...identity, data };
}

function digest(identity: unknown, hexDigits: number): string {
  return createHash('sha256').update(stableStringify(identity)).digest('hex').slice(0, hexDigits);
}
