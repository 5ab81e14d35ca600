/** Precision, recall and F1 of one class, from a confusion matrix (rows: true, columns: predicted). */
export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

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
