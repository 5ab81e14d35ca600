import { FASHION_MNIST_CLASSES } from '../data/classes.js';
import type { EpochRow, GpuDevice, RunRow, RunStatus } from '../store/run-store.js';
import type { ClassMetrics } from '../trial/class-metrics.js';
import type { Mistake } from '../trial/evaluate.js';
import { sweepParams } from './run-config.js';

/** Everything `runner show` and `runner compare` say about one run, parsed out of its database row. */
export interface RunDetails {
  id: string;
  experiment: string;
  file: string;
  status: RunStatus;
  error: string | null;
  git: { branch: string | null; commit: string | null; dirty: boolean | null };
  backend: string | null;
  /** The GPU trained on: the WebGPU adapter's device name and driver, when there was one. */
  device: GpuDevice | null;
  gpu: boolean | null;
  startedAt: string;
  seed: number;
  params: Record<string, unknown>;
  config: unknown;
  metrics: RunMetrics;
  epochs: EpochRow[];
  classes: readonly string[];
  /** Rows: true class, columns: predicted; null for runs that never finished. */
  confusion: number[][] | null;
  classMetrics: ClassMetrics[] | null;
  mistakes: Mistake[];
}

export interface RunMetrics {
  testAccuracy: number | null;
  testLoss: number | null;
  epochs: number;
  bestEpoch: number | null;
  seconds: number | null;
  paramCount: number | null;
}

export interface Confusion {
  trueClass: number;
  predicted: number;
  count: number;
  /** Share of the true class's test samples. */
  rate: number;
}

export function runDetails(row: RunRow, epochs: EpochRow[]): RunDetails {
  const parse = <T>(json: string | null): T | null => (json === null ? null : (JSON.parse(json) as T));
  return {
    id: row.id,
    experiment: row.experiment,
    file: row.file,
    status: row.status,
    error: row.error,
    git: { branch: row.git_branch, commit: row.git_commit, dirty: row.git_dirty === null ? null : Boolean(row.git_dirty) },
    backend: row.backend,
    device: row.device_json ? JSON.parse(row.device_json) : null,
    gpu: row.gpu === null ? null : Boolean(row.gpu),
    startedAt: row.started_at,
    seed: row.seed,
    params: sweepParams(row),
    config: JSON.parse(row.config_json),
    metrics: {
      testAccuracy: row.test_accuracy,
      testLoss: row.test_loss,
      epochs: row.epochs_done,
      bestEpoch: row.best_epoch,
      seconds: row.seconds,
      paramCount: row.param_count,
    },
    epochs,
    classes: FASHION_MNIST_CLASSES,
    confusion: parse<number[][]>(row.confusion_json),
    classMetrics: parse<ClassMetrics[]>(row.class_metrics_json),
    mistakes: parse<Mistake[]>(row.mistakes_json) ?? [],
  };
}

/** The off-diagonal cells of a confusion matrix, most frequent first. */
export function topConfusions(confusion: number[][], limit: number): Confusion[] {
  const cells = confusion.flatMap((row, trueClass) => {
    const support = row.reduce((a, b) => a + b, 0);
    return row.map((count, predicted) => ({ trueClass, predicted, count, rate: support ? count / support : 0 }));
  });
  return cells
    .filter((c) => c.trueClass !== c.predicted && c.count > 0)
    .sort((a, b) => b.count - a.count || b.rate - a.rate)
    .slice(0, limit);
}

/** Each cell as a share of its row (the true class), so classes with more test samples do not look worse. */
export function rowRates(confusion: number[][]): number[][] {
  return confusion.map((row) => {
    const support = row.reduce((a, b) => a + b, 0);
    return row.map((count) => (support ? count / support : 0));
  });
}
