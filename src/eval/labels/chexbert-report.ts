/**
 * sklearn's `classification_report(y_true, y_pred, target_names, output_dict=True, zero_division=0)` on binary
 * multilabel matrices: what LLaVA-Rad's CheXbert `evaluate()` prints. Per-label precision, recall, F1 and support,
 * then the micro, macro, weighted and samples averages. F1 is 2PR / (P + R), 0 when P + R is 0.
 */

export interface ReportRow {
  precision: number;
  recall: number;
  'f1-score': number;
  support: number;
}

/** Keys: the target names, then 'micro avg', 'macro avg', 'weighted avg', 'samples avg'. */
export type ClassificationReport = Record<string, ReportRow>;

interface Counts {
  tp: number;
  predicted: number;
  actual: number;
}

const ratio = (num: number, den: number) => (den === 0 ? 0 : num / den);

function row(c: Counts): ReportRow {
  const precision = ratio(c.tp, c.predicted);
  const recall = ratio(c.tp, c.actual);
  return { precision, recall, 'f1-score': f1(precision, recall), support: c.actual };
}

function f1(precision: number, recall: number): number {
  const den = precision + recall;
  return den === 0 ? 0 : (2 * precision * recall) / den;
}

function mean(values: number[], weights?: number[]): number {
  if (!weights) return values.reduce((a, b) => a + b, 0) / values.length;
  const total = weights.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  return values.reduce((a, v, i) => a + v * weights[i]!, 0) / total;
}

function averageRows(rows: ReportRow[], support: number, weights?: number[]): ReportRow {
  return {
    precision: mean(
      rows.map((r) => r.precision),
      weights,
    ),
    recall: mean(
      rows.map((r) => r.recall),
      weights,
    ),
    'f1-score': mean(
      rows.map((r) => r['f1-score']),
      weights,
    ),
    support,
  };
}

/** `yTrue` and `yPred` are [samples][labels] of 0/1, columns in `targetNames` order. */
export function classificationReport(
  yTrue: readonly (readonly number[])[],
  yPred: readonly (readonly number[])[],
  targetNames: readonly string[],
): ClassificationReport {
  if (yTrue.length !== yPred.length)
    throw new Error('classificationReport: y_true and y_pred differ in length');
  const labels = targetNames.length;
  const perLabel: Counts[] = targetNames.map(() => ({ tp: 0, predicted: 0, actual: 0 }));
  const perSample: Counts[] = [];
  yTrue.forEach((t, i) => {
    const p = yPred[i]!;
    if (t.length !== labels || p.length !== labels)
      throw new Error(
        `classificationReport: row ${i} has ${t.length}/${p.length} labels, expected ${labels}`,
      );
    const s: Counts = { tp: 0, predicted: 0, actual: 0 };
    for (let j = 0; j < labels; j++) {
      const hit = t[j] === 1 && p[j] === 1 ? 1 : 0;
      for (const c of [perLabel[j]!, s]) {
        c.tp += hit;
        c.predicted += p[j] === 1 ? 1 : 0;
        c.actual += t[j] === 1 ? 1 : 0;
      }
    }
    perSample.push(s);
  });
  const rows = perLabel.map(row);
  const micro = perLabel.reduce((a, c) => ({
    tp: a.tp + c.tp,
    predicted: a.predicted + c.predicted,
    actual: a.actual + c.actual,
  }));
  const support = micro.actual;
  const report: ClassificationReport = {};
  targetNames.forEach((name, j) => {
    report[name] = rows[j]!;
  });
  report['micro avg'] = row(micro);
  report['macro avg'] = averageRows(rows, support);
  report['weighted avg'] = averageRows(
    rows,
    support,
    rows.map((r) => r.support),
  );
  report['samples avg'] = averageRows(perSample.map(row), support);
  return report;
}
