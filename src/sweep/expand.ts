import { isAtOrBelow, resolveDottedPath, setAt, type Segments } from '../config/config-path.js';
import { resolveTrial } from '../config/defaults.js';
import { formatPath } from '../config/document-path.js';
import type { Experiment } from '../config/experiment.types.js';
import type { LoadedExperiment } from '../config/load-experiment.js';
import type { TrialConfig } from '../config/resolved.js';
import { explainSchemaErrors, show } from '../config/schema-messages.js';
import { MAX_SEED, schemaErrors } from '../config/schema.js';
import type { ExperimentSources } from '../config/sources.js';
import { trialConfigProblems } from '../config/trial-checks.js';
import { UserError, type Problem } from '../errors.js';
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
interface SweepAxis {
  key: string;
  segments: Segments;
  values: unknown[];
}

/**
 * The cartesian product of the sweep grid, times `repeat` seeds. Each trial is the written experiment with its
 * sweep values set, then defaults filled (so a swept optimizer gets its own learning rate) and checked whole: a
 * combination of values that are each valid alone may not be, and its problem names the values and their lines.
 */
export function expandTrials(loaded: LoadedExperiment, options: { repeat?: number; maxTrials?: number } = {}): TrialSpec[] {
  const { resolved, written, file, sources } = loaded;
  const repeat = options.repeat ?? resolved.repeat;
  const maxTrials = options.maxTrials ?? DEFAULT_MAX_TRIALS;
  const axes = sweepAxes(written);
  const combinations = axes.reduce((n, { values }) => n * values.length, 1) * repeat;
  if (combinations > maxTrials) {
    throw new UserError(`${file}: the sweep grid has ${combinations} trials, over the limit of ${maxTrials}`, [
      sources.problem(
        [],
        {
          path: 'sweep',
          message: `the sweep grid has ${combinations} trials (${axes.map(({ key, values }) => `${values.length} × ${key}`).join(', ')}${repeat > 1 ? `, × ${repeat} repeats` : ''}), over the limit of ${maxTrials}`,
          hint: `shrink the grid, or pass --max-trials ${combinations} if you mean it`,
        },
        'sweep',
      ),
    ]);
  }
  const seedProblems = seedRangeProblems(loaded, axes, repeat);
  if (seedProblems.length) throw invalid(file, seedProblems);

  const { sweep: _sweep, ...base } = written;
  const dataPathFile = sources.fileOf(['data', 'path']);
  const trials: TrialSpec[] = [];
  const hashes = new Set<string>();
  const problems = new Map<string, Problem>();
  let unlisted = 0;
  for (const picks of grid(axes.map(({ values }) => values.length))) {
    const trial = structuredClone(base) as Experiment;
    axes.forEach(({ segments, values }, i) => setAt(trial as unknown as Record<string, unknown>, segments, copy(values[picks[i]!])));
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
    const choice = Object.fromEntries(axes.map(({ key, values }, i) => [key, values[picks[i]!]]));
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

function sweepAxes(written: Experiment): SweepAxis[] {
  return Object.entries(written.sweep ?? {}).map(([key, values]) => {
    const target = resolveDottedPath(written, key);
    // The loader has checked every sweep key: one that names nothing here is a bug, not a user's mistake.
    if (!target.ok) throw new Error(`sweep key ${key} was not checked: ${target.reason}`);
    return { key, segments: target.segments, values };
  });
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
function blameOnSweep(sources: ExperimentSources, axes: SweepAxis[], picks: number[], problem: TrialProblem): Problem {
  const shared = axes.map(({ segments }) => commonPrefix(segments, problem.segments));
  const best = Math.max(0, ...shared);
  const at = shared.indexOf(best);
  if (best === 0 || at < 0) return sources.problem(problem.segments, { path: formatPath(problem.segments), message: problem.message, hint: problem.hint });
  const owner = problem.segments.slice(0, -1);
  const named = axes.flatMap((axis, i) => (i === at || isAtOrBelow(axis.segments, owner) ? [`${axis.key} = ${show(axis.values[picks[i]!])}`] : []));
  const { key } = axes[at]!;
  return sources.problem(['sweep', key, picks[at]!], { path: `sweep.${key}[${picks[at]}]`, message: `with ${named.join(', ')}: ${problem.message} (${formatPath(problem.segments)})`, hint: problem.hint });
}

function commonPrefix(a: Segments, b: Segments): number {
  let n = 0;
  while (n < a.length && n < b.length && String(a[n]) === String(b[n])) n++;
  return n;
}

/**
 * Repeats run seeds seed, seed+1, …: the last must stay within the range the schema gives train.seed (the one the
 * random generators honour), or two trials would share a seed without saying so.
 */
function seedRangeProblems(loaded: LoadedExperiment, axes: SweepAxis[], repeat: number): Problem[] {
  const seedPath = ['train', 'seed'];
  const axis = axes.find(({ segments }) => formatPath(segments) === formatPath(seedPath));
  const seeds = axis ? axis.values : [loaded.resolved.train.seed];
  return seeds.flatMap((seed, i) => {
    if (typeof seed !== 'number' || seed + repeat - 1 <= MAX_SEED) return [];
    const at = axis ? ['sweep', axis.key, i] : seedPath;
    return [
      loaded.sources.problem(at, {
        path: axis ? `sweep.${axis.key}[${i}]` : 'train.seed',
        message: `seed ${seed} with ${repeat} repeats runs seeds up to ${seed + repeat - 1}, beyond the largest seed, ${MAX_SEED}`,
        hint: `seeds must lie in 0..${MAX_SEED}: use a seed of at most ${MAX_SEED - repeat + 1} for ${repeat} repeats`,
      }),
    ];
  });
}

/** The experiment's name and the values its sweep chose: how the terminal and the plan name a trial. */
export function trialLabel(spec: TrialSpec): string {
  const params = paramLabels(spec.params);
  return params.length ? `${spec.experiment} ${params.join(' ')}` : spec.experiment;
}

function invalid(file: string, problems: Problem[]): UserError {
  return new UserError(problemsIn(file, problems), problems);
}
