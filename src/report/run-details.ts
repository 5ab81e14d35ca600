import { FASHION_MNIST_CLASSES } from '../data/classes.js';
import type { EpochRow, Run } from '../store/run-store.js';

/** Everything `runner show` and `runner compare` say about one run: the run as `list` has it, its epochs and class names. */
export interface RunDetails extends Run {
  epochs: EpochRow[];
  classes: readonly string[];
}

/** The run fields `compare` sets side by side. */
export type RunMetrics = Pick<Run, 'testAccuracy' | 'testLoss' | 'epochsDone' | 'bestEpoch' | 'seconds' | 'paramCount'>;

export interface Confusion {
  trueClass: number;
  predicted: number;
  count: number;
  /** Share of the true class's test samples. */
  rate: number;
}

export function runDetails(run: Run, epochs: EpochRow[]): RunDetails {
  return { ...run, epochs, classes: FASHION_MNIST_CLASSES };
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
