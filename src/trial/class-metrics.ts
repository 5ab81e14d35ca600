import type { ClassMetrics } from './records.js';

/** Precision, recall and F1 of each class, from a confusion matrix (rows: true, columns: predicted). */
export function classMetrics(confusion: number[][]): ClassMetrics[] {
  return confusion.map((row, k) => {
    const truePositives = row[k]!;
    const predicted = confusion.reduce((sum, r) => sum + r[k]!, 0);
    const support = row.reduce((a, b) => a + b, 0);
    const precision = predicted ? truePositives / predicted : 0;
    const recall = support ? truePositives / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { precision, recall, f1, support };
  });
}
