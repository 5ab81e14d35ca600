import stableStringify from 'fast-json-stable-stringify';
import { FASHION_MNIST_CLASSES, PIXELS, type LabelledImages } from '../../data/classes.js';
import type { AshaMetric } from '../../config/resolved.js';
import type { EpochRow, Run } from '../../store/run-store.js';
import type { Mistake } from '../../trial/records.js';
import { ashaDepth } from '../depth.js';
import { higherIsBetter } from '../../trial/epoch-metrics.js';
import { latestPerTrial } from '../latest-runs.js';
import type { Leaderboard, LeaderboardEntry } from '../leaderboard.js';
import { sweepParams } from '../run-config.js';
import { paramLabels } from '../../ui/format.js';

/** Everything the HTML report shows, gathered from the database before any markup is written. */
export interface HtmlReportData {
  generatedAt: string;
  database: string;
  filters: string[];
  board: Leaderboard;
  classes: readonly string[];
  /** Learning curves of the best entries, every seed of an entry drawn in its colour. */
  curves: { label: string; runs: { id: string; epochs: EpochRow[] }[] }[];
  /** Confusion matrices of the best entries, summed over their seeds. */
  confusions: { label: string; runIds: string[]; matrix: number[][] }[];
  sweeps: SweepPlot[];
  /** One per ASHA search among the runs: how far each of its configs got. */
  ashaSearches: AshaSearchView[];
  gallery: Gallery;
}

/** The configs of one ASHA search (an experiment on a branch, with one set of rungs and one metric). */
export interface AshaSearchView {
  experiment: string;
  branch: string | null;
  /** The rung epochs, ascending; the last is the top. */
  rungs: number[];
  reduction: number;
  metric: AshaMetric;
  /** Deepest first, and within a rung the best at it first: the order in which ASHA ranked them. */
  configs: AshaConfigView[];
}

export interface AshaConfigView {
  runId: string;
  label: string;
  /** How many rungs it reached. */
  rung: number;
  epochs: number;
  /** ASHA stopped it at a rung with epochs left. */
  paused: boolean;
  /** The search's metric after each epoch. */
  curve: [number, number][];
  /** The metric at each rung epoch, null where it did not get there. */
  atRungs: (number | null)[];
  testAccuracy: number | null;
}

export interface SweepPlot {
  experiment: string;
  param: string;
  points: { value: unknown; accuracy: number; runId: string }[];
}

export interface Gallery {
  label: string;
  images: (Mistake & { pixels: Uint8Array })[];
  /** Why there are no images, when there are none. */
  note: string | null;
}

export interface HtmlReportInput {
  runs: Run[];
  board: Leaderboard;
  epochs: (runId: string) => EpochRow[];
  /** The Fashion-MNIST test set, or why it could not be read. */
  testSet: LabelledImages | { missing: string };
  database: string;
  filters: string[];
  generatedAt: string;
}

const CURVE_ENTRIES = 6;
const HEATMAP_ENTRIES = 3;

export function htmlReportData(input: HtmlReportInput): HtmlReportData {
  const { board, runs } = input;
  const byId = new Map(runs.map((r) => [r.id, r]));
  const latest = latestPerTrial(runs);
  const best = (n: number) => board.entries.slice(0, n);
  return {
    generatedAt: input.generatedAt,
    database: input.database,
    filters: input.filters,
    board,
    classes: FASHION_MNIST_CLASSES,
    curves: best(CURVE_ENTRIES).map((e) => ({ label: entryLabel(e), runs: e.runIds.map((id) => ({ id, epochs: input.epochs(id) })) })),
    confusions: best(HEATMAP_ENTRIES).flatMap((e) => {
      const matrices = e.runIds.map((id) => byId.get(id)?.confusion).filter((m): m is number[][] => Boolean(m));
      return matrices.length ? [{ label: entryLabel(e), runIds: e.runIds, matrix: sum(matrices) }] : [];
    }),
    sweeps: sweepPlots(latest),
    ashaSearches: ashaSearches(latest, input.epochs),
    gallery: gallery(board.entries[0], byId, input.testSet),
  };
}

/** `quick learningRate=0.003 · main`. */
function entryLabel(e: LeaderboardEntry): string {
  const params = paramLabels(e.params);
  return [e.experiment, ...params].join(' ') + (e.branch ? ` · ${e.branch}` : '');
}

/** One plot per experiment and parameter that takes more than one value among its runs. */
function sweepPlots(runs: Run[]): SweepPlot[] {
  const byExperiment = new Map<string, Run[]>();
  for (const r of runs) if (r.testAccuracy !== null) byExperiment.set(r.experiment, [...(byExperiment.get(r.experiment) ?? []), r]);
  return [...byExperiment].flatMap(([experiment, group]) => {
    const params = group.map((r) => ({ id: r.id, accuracy: r.testAccuracy!, params: sweepParams(r) }));
    const keys = [...new Set(params.flatMap((p) => Object.keys(p.params)))];
    return keys
      .filter((key) => new Set(params.map((p) => stableStringify(p.params[key] ?? null))).size > 1)
      .map((param) => ({ experiment, param, points: params.filter((p) => param in p.params).map((p) => ({ value: p.params[param], accuracy: p.accuracy, runId: p.id })) }));
  });
}

/** The runs of ASHA searches, one view per experiment, branch and way of scheduling (rungs, η, metric). */
function ashaSearches(runs: Run[], epochs: HtmlReportInput['epochs']): AshaSearchView[] {
  const searches = new Map<string, AshaSearchView>();
  for (const run of runs) {
    const depth = ashaDepth(run);
    if (!depth) continue;
    const { rungs, reduction, metric } = depth;
    const key = stableStringify([run.experiment, run.git.branch, rungs, reduction, metric]);
    const search = searches.get(key) ?? { experiment: run.experiment, branch: run.git.branch, rungs, reduction, metric, configs: [] };
    const byEpoch = new Map(epochs(run.id).map((e) => [e.epoch, e[metric]]));
    search.configs.push({
      runId: run.id,
      label: paramLabels(run.params).join(' ') || run.id,
      rung: depth.rung,
      epochs: run.epochsDone,
      paused: depth.paused,
      curve: [...byEpoch].filter((point): point is [number, number] => Number.isFinite(point[1])).sort((a, b) => a[0] - b[0]),
      atRungs: rungs.map((epoch) => (Number.isFinite(byEpoch.get(epoch)) ? byEpoch.get(epoch)! : null)),
      testAccuracy: run.testAccuracy,
    });
    searches.set(key, search);
  }
  for (const search of searches.values()) {
    const sign = higherIsBetter(search.metric) ? -1 : 1;
    const last = (c: AshaConfigView) => (c.rung ? c.atRungs[c.rung - 1] : null) ?? Number.NaN;
    search.configs.sort((a, b) => b.rung - a.rung || sign * (last(a) - last(b)) || 0);
  }
  return [...searches.values()];
}

function gallery(entry: LeaderboardEntry | undefined, byId: Map<string, Run>, testSet: HtmlReportInput['testSet']): Gallery {
  const run = entry && byId.get(entry.runIds[0]!);
  if (!entry || !run) return { label: '', images: [], note: 'no runs to show' };
  const label = `${entryLabel(entry)} (run ${run.id})`;
  if ('missing' in testSet) return { label, images: [], note: testSet.missing };
  if (!run.mistakes.length) return { label, images: [], note: 'this run misclassified no test image' };
  const images = run.mistakes.filter((m) => m.index < testSet.count).map((m) => ({ ...m, pixels: testSet.images.subarray(m.index * PIXELS, (m.index + 1) * PIXELS) }));
  return { label, images, note: null };
}

function sum(matrices: number[][][]): number[][] {
  return matrices[0]!.map((row, r) => row.map((_, c) => matrices.reduce((total, m) => total + m[r]![c]!, 0)));
}
