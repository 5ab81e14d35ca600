import { createHash } from 'node:crypto';
import stableStringify from 'fast-json-stable-stringify';
import { resolveDottedPath, setAt } from '../config/config-path.js';
import type { LoadedExperiment } from '../config/load-experiment.js';
import type { TrialConfig } from '../config/resolved.js';
import { UserError } from '../errors.js';

/** One trial, fully resolved: the queue and the workers never read YAML again. */
export interface TrialSpec {
  experiment: string;
  file: string;
  config: TrialConfig;
  /** The values this trial's sweep chose, by sweep key (plus `seed` when repeats vary it). */
  params: Record<string, unknown>;
  repeatIndex: number;
  /** Identity across invocations, files and branches: hash of the resolved config, seed included. */
  hash: string;
}

export const DEFAULT_MAX_TRIALS = 1000;

/** The cartesian product of the sweep grid, times `repeat` seeds. */
export function expandTrials(loaded: LoadedExperiment, options: { repeat?: number; maxTrials?: number } = {}): TrialSpec[] {
  const { resolved, file } = loaded;
  const repeat = options.repeat ?? resolved.repeat;
  const maxTrials = options.maxTrials ?? DEFAULT_MAX_TRIALS;
  const axes = Object.entries(resolved.sweep);
  const combinations = axes.reduce((n, [, values]) => n * values.length, 1) * repeat;
  if (combinations > maxTrials) {
    throw new UserError(`${file}: the sweep grid has ${combinations} trials, over the limit of ${maxTrials}`, [
      loaded.sources.problem(
        [],
        {
          path: 'sweep',
          message: `the sweep grid has ${combinations} trials (${axes.map(([k, v]) => `${v.length} × ${k}`).join(', ')}${repeat > 1 ? `, × ${repeat} repeats` : ''}), over the limit of ${maxTrials}`,
          hint: `shrink the grid, or pass --max-trials ${combinations} if you mean it`,
        },
        'sweep',
      ),
    ]);
  }

  const { sweep: _sweep, repeat: _repeat, backend: _backend, ...base } = resolved;
  const trials: TrialSpec[] = [];
  for (const choice of grid(axes)) {
    for (let r = 0; r < repeat; r++) {
      const config = structuredClone(base) as TrialConfig;
      for (const [key, value] of Object.entries(choice)) {
        const target = resolveDottedPath(config, key);
        if (target.ok) setAt(config as unknown as Record<string, unknown>, target.segments, value);
      }
      // Repeats offset the seed this combination chose, which the sweep itself may vary.
      config.train.seed += r;
      // A swept train.seed is the trial's seed: it is labelled once, as the seed this repeat used.
      const { 'train.seed': sweptSeed, ...rest } = choice;
      const params = repeat > 1 || sweptSeed !== undefined ? { ...rest, seed: config.train.seed } : rest;
      const hash = trialHash(config);
      // Overlapping seeds (a swept train.seed of 1 and 2 with two repeats each) give the same trial twice: it runs once.
      if (trials.some((t) => t.hash === hash)) continue;
      trials.push({ experiment: config.name, file, config, params, repeatIndex: r, hash });
    }
  }
  return trials;
}

function* grid(axes: [string, unknown[]][]): Generator<Record<string, unknown>> {
  if (axes.length === 0) {
    yield {};
    return;
  }
  const [[key, values], ...rest] = axes as [[string, unknown[]], ...[string, unknown[]][]];
  for (const value of values) for (const tail of grid(rest)) yield { [key]: value, ...tail };
}

export function trialHash(config: TrialConfig): string {
  return createHash('sha256').update(stableStringify(trialIdentity(config))).digest('hex').slice(0, 16);
}

/** The trial's identity without its seed: repeats of one trial share it, so reports pool them and diffs pair them across branches. */
export function seedlessIdentity(config: TrialConfig) {
  const identity = trialIdentity(config);
  const { seed: _seed, ...train } = identity.train;
  return { ...identity, train };
}

/** Description and data location do not change what a trial computes, so they stay out of its identity. */
function trialIdentity(config: TrialConfig): Omit<TrialConfig, 'description'> {
  const { description: _description, ...identity } = config;
  const { path: _path, ...data } = identity.data;
  return { ...identity, data };
}
