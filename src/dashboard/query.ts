import { rankMetricNamed, RANK_METRIC_NAMES, type RankMetric } from '../report/leaderboard.js';
import { RUN_STATUSES, type RunStatus } from '../run-status.js';
import type { RunFilter } from '../store/run-store.js';
import { HttpError } from './http-error.js';

/**
 * Query strings checked before anything reads the database: an unknown or repeated parameter, a value out of its
 * set or with control characters is a 400 with a sentence saying what was expected, never a guess.
 */
export class Query {
  constructor(
    private readonly params: URLSearchParams,
    allowed: readonly string[],
  ) {
    for (const key of new Set(params.keys())) {
      if (!allowed.includes(key)) throw new HttpError(400, `unknown query parameter ${JSON.stringify(key)}; this endpoint takes ${allowed.length ? allowed.join(', ') : 'none'}`);
    }
  }

  /** One optional value; an empty one counts as absent, as an HTML form sends it. */
  text(key: string): string | undefined {
    const values = this.all(key);
    if (values.length > 1) throw new HttpError(400, `query parameter ${key} given ${values.length} times; give it once`);
    return values[0] || undefined;
  }

  required(key: string): string {
    const value = this.text(key);
    if (value === undefined) throw new HttpError(400, `query parameter ${key} is required`);
    return value;
  }

  all(key: string): string[] {
    const values = this.params.getAll(key);
    for (const value of values) {
      if (value.length > MAX_LENGTH) throw new HttpError(400, `query parameter ${key} is longer than ${MAX_LENGTH} characters`);
      if (/\p{Cc}/u.test(value)) throw new HttpError(400, `query parameter ${key} holds control characters`);
    }
    return values;
  }
}

const MAX_LENGTH = 200;

/** Filters as `runner report` and `runner list` take them: experiment, branch, status, tag=key=value (repeatable, all must match). */
export const FILTER_PARAMS = ['experiment', 'branch', 'status', 'tag'] as const;

export function runFilter(query: Query): RunFilter {
  const status = query.text('status');
  if (status !== undefined && !RUN_STATUSES.includes(status as RunStatus)) throw new HttpError(400, `status ${JSON.stringify(status)} is not one of ${RUN_STATUSES.join(', ')}`);
  const tags = Object.fromEntries(
    query.all('tag').map((pair) => {
      const match = /^([^=]+)=(.*)$/s.exec(pair);
      if (!match) throw new HttpError(400, `tag ${JSON.stringify(pair)} is not key=value`);
      return [match[1]!, match[2]!];
    }),
  );
  // No tag filter is `undefined`, not `{}`: the same filter must make the same cache key as `runsWhere({})`.
  return { experiment: query.text('experiment'), branch: query.text('branch'), status: status as RunStatus | undefined, tags: Object.keys(tags).length ? tags : undefined };
}

export function rankMetric(query: Query): RankMetric {
  const name = query.text('metric') ?? 'accuracy';
  const metric = rankMetricNamed(name);
  if (!metric) throw new HttpError(400, `metric ${JSON.stringify(name)} is not one of ${RANK_METRIC_NAMES.join(', ')}`);
  return metric;
}

/** Run ids as the runner makes them (`1266077b-9284`), or a prefix of one. */
const RUN_ID = /^[0-9a-f][0-9a-f-]{0,39}$/;

export function runIdList(query: Query, key: string, count: { min: number; max: number }): string[] {
  const ids = query.required(key).split(',');
  if (ids.length < count.min || ids.length > count.max) throw new HttpError(400, `${key} takes ${count.min} to ${count.max} run ids separated by commas, got ${ids.length}`);
  for (const id of ids) checkRunId(id);
  return ids;
}

export function checkRunId(id: string): string {
  if (!RUN_ID.test(id)) throw new HttpError(404, `no run with id ${JSON.stringify(id.slice(0, MAX_LENGTH))}`);
  return id;
}
