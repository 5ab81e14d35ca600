import type { Problem } from '../errors.js';
import { isMapping, resolveDottedPath } from './config-path.js';
import { distinctValueCount, samplingOf } from './distributions.js';
import { formatPath } from './document-path.js';
import type { Experiment, SearchConfig, SweepAxis } from './experiment.types.js';
import { schemaRefused, type SchemaMessage } from './schema-messages.js';
import { experimentSchema } from './schema.js';
import { durationSeconds } from './search.js';
import type { ExperimentSources } from './sources.js';

type SearchField = keyof SearchConfig;

/** Fields that only ASHA reads: under another strategy they would do nothing, silently. */
const ASHA_ONLY: readonly SearchField[] = ['candidates', 'minEpochs', 'maxEpochs', 'reduction', 'metric'];

/** Fields that only random sampling reads. */
const SAMPLING_ONLY: readonly SearchField[] = ['trials', 'seed'];

const searchDefaults = experimentSchema.$defs!.search!.properties!;
const trainDefaults = experimentSchema.$defs!.train!.properties!;

/**
 * The search section against itself and the sweep: each field applies to its strategy only, random sampling needs
 * `trials` and a sweep with that many distinct configs, a grid needs lists, ASHA needs room between its first and
 * last rung and owns train.epochs. A field the schema refused is left to its message; a strategy it refused leaves
 * nothing to check against.
 */
export function searchProblems(written: Experiment, sources: ExperimentSources, messages: SchemaMessage[]): Problem[] {
  const section: unknown = written.search ?? {};
  if (!isMapping(section)) return [];
  const refused = (...segments: (string | number)[]) => schemaRefused(messages, segments);
  if (refused('search', 'strategy') || refused('search', 'candidates')) return [];
  const search = section as SearchConfig;
  const strategy = search.strategy ?? 'grid';
  const samples = strategy === 'random' || (strategy === 'asha' && search.candidates === 'random');
  const at: At = (field, message, hint) => sources.problem(['search'], { path: `search.${field}`, message, hint }, field);
  const problems: Problem[] = [];

  if (strategy !== 'asha') {
    for (const field of ASHA_ONLY.filter((f) => f in search && !refused('search', f))) {
      problems.push(at(field, `search.${field} applies only to strategy: asha`, 'remove it, or set strategy: asha to train configs in rungs'));
    }
  }
  if (!samples) {
    for (const field of SAMPLING_ONLY.filter((f) => f in search && !refused('search', f))) {
      problems.push(
        at(
          field,
          `search.${field} applies only to random sampling (strategy: random, or strategy: asha with candidates: random)`,
          strategy === 'asha' ? `asha's candidates are the sweep's grid here; remove ${field}, or set candidates: random to sample them` : `a grid runs every combination of the sweep; remove ${field}, or set strategy: random to sample`,
        ),
      );
    }
  } else if (search.trials === undefined) {
    const [field, value] = strategy === 'random' ? (['strategy', 'strategy: random'] as const) : (['candidates', 'candidates: random'] as const);
    problems.push(at(field, `${value} needs search.trials, the number of configs to sample`, 'add it under search, e.g. trials: 20'));
  } else if (!refused('search', 'trials') && !refused('sweep')) {
    problems.push(...tooFewConfigs(written, search.trials, strategy, at));
  }
  if (strategy === 'asha') problems.push(...ashaProblems(written, search, sources, refused, at));
  if (search.timeBudget !== undefined && !refused('search', 'timeBudget') && durationSeconds(search.timeBudget) === undefined) {
    problems.push(at('timeBudget', `search.timeBudget ${search.timeBudget} is shorter than a second`, 'give the sweep time to start a trial, e.g. 90m, 2h or 45s'));
  }
  if (!samples) problems.push(...distributionsInGrid(written, sources, strategy));
  return problems;
}

type At = (field: SearchField, message: string, hint: string) => Problem;

/**
 * Random sampling draws distinct configs, so the sweep must hold at least `trials` of them; a range of real numbers
 * holds plenty. Fewer would run a smaller search than the file asks for without saying so.
 */
function tooFewConfigs(written: Experiment, trials: number, strategy: string, at: At): Problem[] {
  const axes = Object.entries(written.sweep ?? {});
  const counts = axes.map(([key, axis]) => ({ key, count: distinctValueCount(samplingOf(axis)) }));
  const total = counts.reduce((n, { count }) => n * count, 1);
  if (total >= trials) return [];
  const grid = strategy === 'asha' ? 'candidates: grid' : 'strategy: grid';
  if (axes.length === 0) {
    return [at('trials', `search.trials asks for ${trials} configs, but there is no sweep to sample them from`, 'add sweep keys with lists or distributions, e.g. train.optimizer.learningRate: { logUniform: [1e-4, 1e-2] }')];
  }
  const sizes = counts.map(({ key, count }) => `${count} of ${key}`).join(' × ');
  return [at('trials', `search.trials asks for ${trials} distinct configs, but the sweep holds only ${total} (${sizes})`, `lower trials to ${total}, or use ${grid} to run every one`)];
}

/** ASHA's epochs: a first rung below the last, and train.epochs its own rather than the sweep's. */
function ashaProblems(written: Experiment, search: SearchConfig, sources: ExperimentSources, refused: (...segments: (string | number)[]) => boolean, at: At): Problem[] {
  const problems: Problem[] = [];
  const epochsRefused = refused('search', 'minEpochs') || refused('search', 'maxEpochs') || refused('train', 'epochs');
  const minEpochs = search.minEpochs ?? (searchDefaults.minEpochs!.default as number);
  const maxEpochs = search.maxEpochs ?? written.train?.epochs ?? (trainDefaults.epochs!.default as number);
  if (!epochsRefused && minEpochs >= maxEpochs) {
    const max = search.maxEpochs === undefined ? `${maxEpochs} (train.epochs, as search.maxEpochs is not given)` : String(maxEpochs);
    // At the field written; with neither written, at the strategy that brought the rungs.
    const field: SearchField = search.minEpochs !== undefined ? 'minEpochs' : search.maxEpochs !== undefined ? 'maxEpochs' : 'strategy';
    problems.push(
      at(
        field,
        `search.minEpochs ${minEpochs} must be below maxEpochs ${max}: asha trains every config minEpochs first and promotes the best up to maxEpochs`,
        search.maxEpochs === undefined ? 'lower minEpochs, or give a larger search.maxEpochs (or train.epochs)' : 'lower minEpochs, or raise maxEpochs',
      ),
    );
  }
  for (const key of Object.keys(written.sweep ?? {})) {
    const target = resolveDottedPath(written, key);
    if (!target.ok || formatPath(target.segments) !== 'train.epochs') continue;
    problems.push(
      sources.problem(
        ['sweep'],
        {
          path: `sweep.${key}`,
          message: `sweep \`${key}\` under strategy: asha: asha gives each trial its epochs itself, from search.minEpochs up to search.maxEpochs`,
          hint: 'remove the train.epochs key from the sweep, and set search.minEpochs and search.maxEpochs instead',
        },
        key,
      ),
    );
  }
  return problems;
}

/** A grid takes every value of each list; a distribution has no list of values to take. */
function distributionsInGrid(written: Experiment, sources: ExperimentSources, strategy: string): Problem[] {
  const sweep: Record<string, SweepAxis> = written.sweep ?? {};
  return Object.keys(sweep)
    .filter((key) => isMapping(sweep[key]))
    .map((key) =>
      sources.problem(
        ['sweep'],
        {
          path: `sweep.${key}`,
          message: `sweep \`${key}\` is a distribution, which needs search.strategy: random (or strategy: asha with candidates: random); a grid needs a list of values`,
          hint:
            strategy === 'asha'
              ? 'set candidates: random and trials under search to sample it, or list the values to try, e.g. [0.1, 0.3]'
              : 'set search: { strategy: random, trials: 20 } to sample it, or list the values to try, e.g. [0.1, 0.3]',
        },
        key,
      ),
    );
}
