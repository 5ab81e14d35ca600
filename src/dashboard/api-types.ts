/**
 * The JSON the dashboard's API answers with. The browser code imports these as types only, so the server and the
 * page cannot drift apart silently; every number in them comes from the report module's plain-data functions.
 */
import type { Comparison } from '../report/compare.js';
import type { DiffResult } from '../report/diff.js';
import type { Leaderboard } from '../report/leaderboard.js';
import type { ConfigChange } from '../report/run-config.js';
import type { Confusion, RunDetails } from '../report/run-details.js';
import type { RunStatus } from '../run-status.js';
import type { EpochRow } from '../store/run-store.js';

export type { DiffSide } from '../report/diff.js';
export type { LeaderboardEntry } from '../report/leaderboard.js';
export type { RunDetails } from '../report/run-details.js';
export type { EpochRow } from '../store/run-store.js';

export interface MetaResponse {
  database: string;
  readOnly: true;
  /** False when the server reads an in-memory copy of the file (an older schema), which later commits do not reach. */
  live: boolean;
  runs: number;
  experiments: string[];
  branches: { branch: string; runs: number }[];
  /** Every tag key with the values it takes. */
  tags: Record<string, string[]>;
  statuses: readonly RunStatus[];
}

/** A run as the runs table needs it: no confusion matrix or mistakes, which would make a thousand runs heavy. */
export interface RunSummary {
  id: string;
  experiment: string;
  status: RunStatus;
  error: string | null;
  params: Record<string, unknown>;
  branch: string | null;
  commit: string | null;
  tags: Record<string, string>;
  startedAt: string;
  finishedAt: string | null;
  epochsDone: number;
  /** `train.epochs` of its config; early stopping may end it sooner, and ASHA stop it at a rung. */
  epochsPlanned: number | null;
  /** ASHA stopped it at a rung with epochs left (its scores are from there). */
  pausedByAsha: boolean;
  testAccuracy: number | null;
  testLoss: number | null;
  seconds: number | null;
  backend: string | null;
}

export interface RunsResponse {
  runs: RunSummary[];
  /** The epochs of the first few runs, the newest: the curves that grow while a sweep runs. */
  newestCurves: { id: string; epochs: EpochRow[] }[];
}

export type LeaderboardResponse = Leaderboard;

export interface RunResponse {
  run: RunDetails;
  /** Each confusion cell as a share of its true class (`rowRates`), what the heatmap colours. */
  confusionShares: number[][] | null;
  topConfusions: Confusion[];
  /** Whether the misclassified images can be drawn (`/api/runs/ID/images/INDEX.png`), and why not when they cannot. */
  images: { available: true } | { available: false; note: string };
}

export interface CompareResponse {
  runs: RunDetails[];
  /** Every config path on which some run differs from another, with each run's value (undefined: absent). */
  configDifferences: { path: string; values: unknown[] }[];
  /** The first run against each of the others, as `runner compare` has it, with the change of each confusion cell's row share. */
  against: (Omit<Comparison, 'a' | 'b' | 'configChanges'> & { a: string; b: string; configChanges: ConfigChange[]; confusionDelta: number[][] | null })[];
}

export type DiffResponse = DiffResult;

export interface ErrorResponse {
  error: string;
}
