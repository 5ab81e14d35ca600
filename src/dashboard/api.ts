import stableStringify from 'fast-json-stable-stringify';
import { IMAGE_SIZE, PIXELS } from '../data/classes.js';
import { compareRuns } from '../report/compare.js';
import { pausedByAsha } from '../report/depth.js';
import { diffRuns } from '../report/diff.js';
import { greyscalePng } from '../report/html/png.js';
import type { HtmlReportInput } from '../report/html/report-data.js';
import { reportTestSet } from '../report/html/test-set.js';
import { leaderboard } from '../report/leaderboard.js';
import { knownBranches, runsAtRef } from '../report/refs.js';
import { configDifferences } from '../report/run-config.js';
import { rowRates, runDetails, topConfusions, type RunDetails } from '../report/run-details.js';
import { RUN_STATUSES } from '../run-status.js';
import type { Run, RunFilter, RunStore } from '../store/run-store.js';
import type { CompareResponse, DiffResponse, LeaderboardResponse, MetaResponse, RunResponse, RunsResponse, RunSummary } from './api-types.js';
import { HttpError } from './http-error.js';
import { FILTER_PARAMS, Query, checkRunId, rankMetric, runFilter, runIdList } from './query.js';

const NEWEST_CURVES = 8;

/** What one API request answers: JSON, or a PNG of a test image. */
export type ApiAnswer = { json: unknown } | { png: Buffer };

interface Route {
  path: RegExp;
  query: readonly string[];
  answer: (match: string[], query: Query) => ApiAnswer;
}

/**
 * The dashboard's read-only API over one run database. Each answer is the report module's plain data (the same
 * functions `runner report`, `show`, `compare` and `diff` print), so the page's numbers match the terminal's.
 */
export class DashboardApi {
  /** The test set is read once per location: it is the same 10,000 images for every run that names it. */
  private readonly testSets = new Map<string, HtmlReportInput['testSet']>();
  /**
   * Runs, rankings and facets as computed for the database's current data version: reading and parsing a thousand
   * runs and ranking them takes a tenth of a second here, and a page asks for several views of them at once, every
   * client again after each commit. Answers are only serialised, never changed, so they can be shared.
   */
  private cached: { version: number; answers: Map<string, unknown> } = { version: -1, answers: new Map() };
  private readonly routes: Route[] = [
    { path: /^\/api\/meta$/, query: [], answer: () => ({ json: this.meta() }) },
    { path: /^\/api\/runs$/, query: FILTER_PARAMS, answer: (_, q) => ({ json: this.runs(q) }) },
    { path: /^\/api\/leaderboard$/, query: [...FILTER_PARAMS, 'metric'], answer: (_, q) => ({ json: this.leaderboard(q) }) },
    { path: /^\/api\/runs\/([^/]+)$/, query: [], answer: ([id]) => ({ json: this.run(id!) }) },
    { path: /^\/api\/runs\/([^/]+)\/images\/([^/]+)\.png$/, query: [], answer: ([id, index]) => ({ png: this.image(id!, index!) }) },
    { path: /^\/api\/compare$/, query: ['ids'], answer: (_, q) => ({ json: this.compare(q) }) },
    { path: /^\/api\/diff$/, query: ['a', 'b', 'experiment'], answer: (_, q) => ({ json: this.diff(q) }) },
  ];

  constructor(
    private readonly store: RunStore,
    private readonly dataDir: string | undefined,
  ) {}

  /**
   * Computes what the first page asks for. Done before listening: computed while the browser fetches the page,
   * it would hold up the page's own files instead.
   */
  warm(): void {
    this.meta();
    this.leaderboard(new Query(new URLSearchParams(), []));
  }

  /** The answer for an API path, or undefined when no route has it. */
  answer(pathname: string, params: URLSearchParams): ApiAnswer | undefined {
    for (const route of this.routes) {
      const match = route.path.exec(pathname);
      if (match) return route.answer(match.slice(1).map(decodePathPart), new Query(params, route.query));
    }
    return undefined;
  }

  private meta(): MetaResponse {
    return this.memo('meta', () => this.facets());
  }

  private facets(): MetaResponse {
    const runs = this.runsWhere({});
    const tags = new Map<string, Set<string>>();
    for (const run of runs) for (const [key, value] of Object.entries(run.tags)) tags.set(key, (tags.get(key) ?? new Set()).add(value));
    return {
      database: this.store.path,
      readOnly: true,
      live: !this.store.isSnapshot,
      runs: runs.length,
      experiments: [...new Set(runs.map((r) => r.experiment))].sort(),
      branches: knownBranches([...runs]),
      tags: Object.fromEntries([...tags].sort(([a], [b]) => a.localeCompare(b)).map(([key, values]) => [key, [...values].sort()])),
      statuses: RUN_STATUSES,
    };
  }

  /** Newest first, with the learning curves of the newest few, which the page draws at once. */
  private runs(query: Query): RunsResponse {
    const runs = [...this.runsWhere(runFilter(query))].reverse();
    return { runs: runs.map(summary), newestCurves: runs.slice(0, NEWEST_CURVES).map((r) => ({ id: r.id, epochs: this.store.epochs(r.id) })) };
  }

  /** `runner report --json` with the same filters; without a status, completed runs, as the report ranks by default. */
  private leaderboard(query: Query): LeaderboardResponse {
    const metric = rankMetric(query);
    const requested = runFilter(query);
    const filter: RunFilter = { ...requested, status: requested.status ?? 'completed' };
    return this.memo(`leaderboard ${metric} ${stableStringify(filter)}`, () => leaderboard([...this.runsWhere(filter)], { metric }));
  }

  private run(id: string): RunResponse {
    const run = this.findRun(id);
    const testSet = this.testSet(run);
    return {
      run: this.details(run),
      confusionShares: run.confusion ? rowRates(run.confusion) : null,
      topConfusions: run.confusion ? topConfusions(run.confusion, 10) : [],
      images: 'missing' in testSet ? { available: false, note: testSet.missing } : { available: true },
    };
  }

  /** Only the run's own misclassified images: the API is no general reader of the dataset. */
  private image(id: string, indexText: string): Buffer {
    const run = this.findRun(id);
    const index = Number(indexText);
    if (!/^\d{1,6}$/.test(indexText) || !run.mistakes.some((m) => m.index === index)) throw new HttpError(404, `run ${run.id} has no misclassified test image ${JSON.stringify(indexText)}`);
    const testSet = this.testSet(run);
    if ('missing' in testSet) throw new HttpError(404, testSet.missing);
    if (index >= testSet.count) throw new HttpError(404, `the test set here has ${testSet.count} images, not ${index + 1}`);
    return greyscalePng(testSet.images.subarray(index * PIXELS, (index + 1) * PIXELS), IMAGE_SIZE, IMAGE_SIZE);
  }

  private compare(query: Query): CompareResponse {
    const ids = runIdList(query, 'ids', { min: 2, max: 8 });
    const runs = ids.map((id) => this.details(this.findRun(id)));
    const [first, ...others] = runs;
    return {
      runs,
      configDifferences: configDifferences(runs.map((run) => run.config)),
      against: others.map((other) => {
        const { a, b, ...comparison } = compareRuns(first!, other);
        const confusionDelta = a.confusion && b.confusion ? confusionShareDelta(a.confusion, b.confusion) : null;
        return { ...comparison, a: a.id, b: b.id, confusionDelta };
      }),
    };
  }

  /** `runner diff A B` between two refs: branch names recorded on runs, or commit prefixes. No git command is run. */
  private diff(query: Query): DiffResponse {
    const refA = query.required('a');
    const refB = query.required('b');
    if (refA === refB) throw new HttpError(400, `both sides of the diff are ${refA}: pick two different refs`);
    const runs = [...this.runsWhere({ experiment: query.text('experiment') })];
    const side = (ref: string): Run[] => {
      const found = runsAtRef(runs, ref);
      if (found.length) return found;
      throw new HttpError(404, `no runs at ${ref}: it is neither a branch recorded on a run nor a commit of one`);
    };
    return diffRuns(refA, side(refA), refB, side(refB));
  }

  private runsWhere(filter: RunFilter): readonly Run[] {
    return this.memo(`runs ${stableStringify(filter)}`, () => this.store.runs(filter));
  }

  private memo<T>(key: string, compute: () => T): T {
    const version = this.store.dataVersion();
    if (version !== this.cached.version) this.cached = { version, answers: new Map() };
    if (!this.cached.answers.has(key)) this.cached.answers.set(key, compute());
    return this.cached.answers.get(key) as T;
  }

  /** Cached like the rest: a run page asks for the run once and for each of its misclassified images. */
  private findRun(id: string): Run {
    const run = this.memo(`run ${id}`, () => this.store.run(checkRunId(id)));
    if (!run) throw new HttpError(404, `no run with id ${JSON.stringify(id)}, or several start with it`);
    return run;
  }

  private details(run: Run): RunDetails {
    return runDetails(run, this.store.epochs(run.id));
  }

  private testSet(run: Run): HtmlReportInput['testSet'] {
    const key = `${run.config.data?.path ?? ''}\u0000${this.dataDir ?? ''}`;
    if (!this.testSets.has(key)) this.testSets.set(key, reportTestSet(run, this.dataDir));
    return this.testSets.get(key)!;
  }
}

function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, `malformed percent-encoding in the path: ${JSON.stringify(part.slice(0, 100))}`);
  }
}

function summary(run: Run): RunSummary {
  return {
    id: run.id,
    experiment: run.experiment,
    status: run.status,
    error: run.error,
    params: run.params,
    branch: run.git.branch,
    commit: run.git.commit,
    tags: run.tags,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    epochsDone: run.epochsDone,
    epochsPlanned: run.config.train?.epochs ?? null,
    pausedByAsha: pausedByAsha(run),
    testAccuracy: run.testAccuracy,
    testLoss: run.testLoss,
    seconds: run.seconds,
    backend: run.backend,
  };
}

/** b − a of each cell's share of its true class: what moved where, comparable across test-set sizes. */
function confusionShareDelta(a: number[][], b: number[][]): number[][] {
  const ra = rowRates(a);
  return rowRates(b).map((row, t) => row.map((rate, p) => rate - ra[t]![p]!));
}
