import stableStringify from 'fast-json-stable-stringify';
import { isAtOrBelow, resolveDottedPath, setAt, type Segments } from '../config/config-path.js';
import { resolveTrial } from '../config/defaults.js';
import { formatPath } from '../config/document-path.js';
import { optionPicks, SAMPLE_DIGITS, sample, samplingOf } from '../config/distributions.js';
import type { Experiment, SweepAxis } from '../config/experiment.types.js';
import type { LoadedExperiment } from '../config/load-experiment.js';
import type { AshaSearch, RandomSampling, TrialConfig } from '../config/resolved.js';
import { explainSchemaErrors, show } from '../config/schema-messages.js';
import { MAX_SEED, schemaErrors } from '../config/schema.js';
import { samplesRandomly } from '../config/search.js';
import type { ExperimentSources } from '../config/sources.js';
import { trialConfigProblems } from '../config/trial-checks.js';
import { UserError, type Problem } from '../errors.js';
import { SeededRandom } from '../random.js';
import { trialHash } from '../trial/identity.js';
import { paramLabels, plural } from '../ui/format.js';
import { problemsIn } from '../ui/problems.js';

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

/** Problems of single trials past this many are counted, not listed: a broken combination repeats across a grid. */
const MOST_TRIAL_PROBLEMS = 20;

/** A sweep key with the path it names in the experiment as written, before any sweep value renames a layer. */
interface SweepAxisPath {
  key: string;
  segments: Segments;
  values: SweepAxis;
}

/** The value one axis gives a trial, and where the file wrote it: a list's entry, a choice's option, or the range it was drawn from. */
interface Pick {
  value: unknown;
  at: Segments;
}

/**
 * Draws per requested config before random sampling gives up finding new ones: plenty for the loader's guarantee that
 * the sweep holds enough distinct configs (collecting every one of n takes about n·ln n draws), while a range of real
 * numbers too narrow for SAMPLE_DIGITS, which holds fewer than it seems, still ends.
 */
const DRAWS_PER_TRIAL = 100;

/**
 * The trials of an experiment's search, each fully resolved and hashed, times `repeat` seeds:
 * - grid (and asha with candidates: grid): the cartesian product of the sweep's lists, the first key slowest;
 * - random (and asha with candidates: random): search.trials distinct configs sampled from the sweep's lists and
 *   distributions by a generator seeded with search.seed alone, in the order drawn;
 * - asha: those configs with train.epochs set to maxEpochs and `search` saying how they are promoted, both in the hash.
 * Each trial is the written experiment with its values set, then defaults filled (so a swept optimizer gets its own
 * learning rate) and checked whole: a combination of values that are each valid alone may not be, and its problem
 * names the values and their lines. `maxTrials` refuses a search of more trials, whatever the strategy; the search's
 * own maxTrials and timeBudget are for the sweep to honour while it runs.
 */
export function expandTrials(loaded: LoadedExperiment, options: { repeat?: number; maxTrials?: number } = {}): TrialSpec[] {
  const { resolved, written, file, sources } = loaded;
  const { search } = resolved;
  const repeat = options.repeat ?? resolved.repeat;
  const axes = sweepAxes(written);
  const tooMany = tooManyTrials(loaded, axes, repeat, options.maxTrials ?? DEFAULT_MAX_TRIALS);
  if (tooMany) throw tooMany;
  const seedProblems = seedRangeProblems(loaded, axes, repeat);
  if (seedProblems.length) throw invalid(file, seedProblems);

  const { sweep: _sweep, ...base } = written;
  const dataPathFile = sources.fileOf(['data', 'path']);
  const trials: TrialSpec[] = [];
  const hashes = new Set<string>();
  const problems = new Map<string, Problem>();
  let unlisted = 0;
  for (const picks of samplesRandomly(search) ? sampledPicks(loaded, axes, search) : gridPicks(axes)) {
    const trial = structuredClone(base) as Experiment;
    axes.forEach(({ segments }, i) => setAt(trial as unknown as Record<string, unknown>, segments, copy(picks[i]!.value)));
    const invalidHere = trialProblems(trial, dataPathFile);
    if ('problems' in invalidHere) {
      for (const found of invalidHere.problems) {
        const problem = blameOnSweep(sources, axes, picks, found);
        const id = `${problem.file}:${problem.line}:${problem.column} ${problem.message}`;
        if (problems.has(id)) continue;
        if (problems.size < MOST_TRIAL_PROBLEMS) problems.set(id, problem);
        else unlisted++;
      }
      continue;
    }
    if (search.strategy === 'asha') scheduleWithAsha(invalidHere.config, search);
    const choice = Object.fromEntries(axes.map(({ key }, i) => [key, picks[i]!.value]));
    // A swept train.seed is the trial's seed: it is labelled once, as the seed this repeat used.
    const { 'train.seed': sweptSeed, ...rest } = choice;
    for (let r = 0; r < repeat; r++) {
      const config = r === 0 ? invalidHere.config : structuredClone(invalidHere.config);
      // Repeats offset the seed this combination chose, which the sweep itself may vary.
      config.train.seed += r;
      const params = repeat > 1 || sweptSeed !== undefined ? { ...rest, seed: config.train.seed } : rest;
      const hash = trialHash(config);
      // Overlapping seeds (a swept train.seed of 1 and 2 with two repeats each) give the same trial twice: it runs once.
      if (hashes.has(hash)) continue;
      hashes.add(hash);
      trials.push({ experiment: config.name, file, config, params, repeatIndex: r, hash });
    }
  }
  if (problems.size) {
    const listed = [...problems.values()];
    if (unlisted) listed.push({ file, path: 'sweep', message: `and ${plural(unlisted, 'more problem')} of other trials like these` });
    throw invalid(file, sources.sort(listed));
  }
  return trials;
}

function sweepAxes(written: Experiment): SweepAxisPath[] {
  return Object.entries(written.sweep ?? {}).map(([key, values]) => {
    const target = resolveDottedPath(written, key);
    // The loader has checked every sweep key: one that names nothing here is a bug, not a user's mistake.
    if (!target.ok) throw new Error(`sweep key ${key} was not checked: ${target.reason}`);
    return { key, segments: target.segments, values };
  });
}

/** A search of more trials than `maxTrials` (the --max-trials flag): a grid grown by one axis too many, or trials mistyped. */
function tooManyTrials(loaded: LoadedExperiment, axes: SweepAxisPath[], repeat: number, maxTrials: number): UserError | undefined {
  const { file, sources, resolved } = loaded;
  const repeats = repeat > 1 ? `, × ${repeat} repeats` : '';
  if (samplesRandomly(resolved.search)) {
    const count = resolved.search.trials * repeat;
    if (count <= maxTrials) return undefined;
    const message = `the ${resolved.search.strategy} search has ${count} trials (${plural(resolved.search.trials, 'sampled config')}${repeats}), over the limit of ${maxTrials}`;
    return new UserError(`${file}: ${message}`, [sources.problem(['search'], { path: 'search.trials', message, hint: `lower search.trials, or pass --max-trials ${count} if you mean it` }, 'trials')]);
  }
  const lists = axes.map(({ key, values }) => ({ key, size: (values as unknown[]).length }));
  const count = lists.reduce((n, { size }) => n * size, 1) * repeat;
  if (count <= maxTrials) return undefined;
  const message = `the sweep grid has ${count} trials (${lists.map(({ key, size }) => `${size} × ${key}`).join(', ')}${repeats}), over the limit of ${maxTrials}`;
  return new UserError(`${file}: the sweep grid has ${count} trials, over the limit of ${maxTrials}`, [
    sources.problem([], { path: 'sweep', message, hint: `shrink the grid, or pass --max-trials ${count} if you mean it` }, 'sweep'),
  ]);
}

/** Every combination of the sweep's lists (the loader refuses a distribution under a grid), the first key slowest. */
function* gridPicks(axes: SweepAxisPath[]): Generator<Pick[]> {
  const lists = axes.map(({ values }) => values as unknown[]);
  for (const indices of grid(lists.map((values) => values.length))) {
    yield indices.map((index, i) => ({ value: lists[i]![index], at: ['sweep', axes[i]!.key, index] }));
  }
}

/**
 * search.trials distinct configs, each key drawn on its own (a list as a choice) by a generator seeded with
 * search.seed alone, so that the same file samples the same configs whatever its train.seed and repeat. A config
 * drawn before is drawn anew.
 */
function sampledPicks(loaded: LoadedExperiment, axes: SweepAxisPath[], search: RandomSampling): Pick[][] {
  const random = new SeededRandom(search.seed);
  const samplings = axes.map(({ values }) => samplingOf(values));
  const drawn = new Map<string, Pick[]>();
  const draws = search.trials * DRAWS_PER_TRIAL;
  for (let n = 0; n < draws && drawn.size < search.trials; n++) {
    const picks = samplings.map((sampling, i): Pick => {
      const { value, at } = sample(sampling, random);
      return { value, at: ['sweep', axes[i]!.key, ...at] };
    });
    const id = stableStringify(picks.map(({ value }) => value));
    if (!drawn.has(id)) drawn.set(id, picks);
  }
  if (drawn.size < search.trials) {
    const message = `search.trials asks for ${search.trials} distinct configs, but ${draws} draws found only ${drawn.size}: rounded to ${SAMPLE_DIGITS} significant digits, the sweep's ranges hold fewer values than they seem to`;
    throw invalid(loaded.file, [loaded.sources.problem(['search'], { path: 'search.trials', message, hint: `widen the ranges, or lower trials to ${drawn.size}` }, 'trials')]);
  }
  return [...drawn.values()];
}

/** Index tuples of the grid, the first axis slowest, as the file lists the axes. */
function* grid(sizes: number[]): Generator<number[]> {
  const picks = sizes.map(() => 0);
  if (sizes.some((size) => size === 0)) return;
  for (;;) {
    yield picks;
    let axis = sizes.length - 1;
    while (axis >= 0 && ++picks[axis]! === sizes[axis]) picks[axis--] = 0;
    if (axis < 0) return;
  }
}

/**
 * An ASHA trial trains to maxEpochs, a rung at a time, and carries how it is promoted: in its hash, so it never passes
 * for a grid run of its config, while the epochs it has reached are not.
 */
function scheduleWithAsha(config: TrialConfig, search: AshaSearch): void {
  config.train.epochs = search.maxEpochs;
  config.search = { strategy: 'asha', minEpochs: search.minEpochs, reduction: search.reduction, metric: search.metric };
}

/** A sweep value of its own for each trial: filling defaults writes into the mappings a value holds. */
function copy(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? structuredClone(value) : value;
}

/** A trial's problem as found: the path it concerns in the trial's config. */
interface TrialProblem {
  segments: Segments;
  message: string;
  hint?: string;
}

/** The trial checked whole against the schema, then with its defaults, across fields; or its config. */
function trialProblems(trial: Experiment, dataPathFile: string): { config: TrialConfig } | { problems: TrialProblem[] } {
  const schema = explainSchemaErrors(schemaErrors(trial), trial);
  if (schema.length) return { problems: schema.map((m) => ({ segments: m.target, message: m.message, hint: m.hint })) };
  const config = resolveTrial(trial, dataPathFile);
  const crossField = trialConfigProblems(config);
  return crossField.length ? { problems: crossField } : { config };
}

/**
 * A trial's problem placed at the sweep value that brought it: the value of the axis whose path shares the most
 * with the problem's, named along with the other values swept inside the same mapping; at the field itself when no
 * axis comes near it (a problem of the file that only a sweep of elsewhere could not hide).
 */
function blameOnSweep(sources: ExperimentSources, axes: SweepAxisPath[], picks: Pick[], problem: TrialProblem): Problem {
  const shared = axes.map(({ segments }) => commonPrefix(segments, problem.segments));
  const best = Math.max(0, ...shared);
  const at = shared.indexOf(best);
  if (best === 0 || at < 0) return sources.problem(problem.segments, { path: formatPath(problem.segments), message: problem.message, hint: problem.hint });
  const owner = problem.segments.slice(0, -1);
  const named = axes.flatMap((axis, i) => (i === at || isAtOrBelow(axis.segments, owner) ? [`${axis.key} = ${show(picks[i]!.value)}`] : []));
  const pick = picks[at]!;
  return sources.problem(pick.at, { path: formatPath(pick.at), message: `with ${named.join(', ')}: ${problem.message} (${formatPath(problem.segments)})`, hint: problem.hint });
}

function commonPrefix(a: Segments, b: Segments): number {
  let n = 0;
  while (n < a.length && n < b.length && String(a[n]) === String(b[n])) n++;
  return n;
}

/**
 * Repeats run seeds seed, seed+1, …: the last must stay within the range the schema gives train.seed (the one the
 * random generators honour), or two trials would share a seed without saying so. A swept seed is checked at each of
 * its values, a range of seeds at its high end.
 */
function seedRangeProblems(loaded: LoadedExperiment, axes: SweepAxisPath[], repeat: number): Problem[] {
  const seedPath = ['train', 'seed'];
  const axis = axes.find(({ segments }) => formatPath(segments) === formatPath(seedPath));
  const seeds: Pick[] = axis ? highestValues(axis) : [{ value: loaded.resolved.train.seed, at: seedPath }];
  return seeds.flatMap(({ value: seed, at }) => {
    if (typeof seed !== 'number' || seed + repeat - 1 <= MAX_SEED) return [];
    return [
      loaded.sources.problem(at, {
        path: formatPath(at),
        message: `seed ${seed} with ${repeat} repeats runs seeds up to ${seed + repeat - 1}, beyond the largest seed, ${MAX_SEED}`,
        hint: `seeds must lie in 0..${MAX_SEED}: use a seed of at most ${MAX_SEED - repeat + 1} for ${repeat} repeats`,
      }),
    ];
  });
}

/** Each value of a list or choice, or a range's high end: the values a check of an upper bound needs. */
function highestValues({ key, values }: SweepAxisPath): Pick[] {
  const sampling = samplingOf(values);
  if (sampling.kind === 'choice') return optionPicks(key, sampling);
  return [{ value: sampling.high, at: ['sweep', key, sampling.kind, 1] }];
}

/** The experiment's name and the values its sweep chose: how the terminal and the plan name a trial. */
export function trialLabel(spec: { experiment: string; params: TrialSpec['params'] }): string {
  const params = paramLabels(spec.params);
  return params.length ? `${spec.experiment} ${params.join(' ')}` : spec.experiment;
}

function invalid(file: string, problems: Problem[]): UserError {
  return new UserError(problemsIn(file, problems), problems);
}
