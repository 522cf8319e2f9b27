/**
 * Label F1 ("F1-CheXbert" in LLaVA-Rad, SPEC.md §5) from any 14-observation labeler: binarise prediction and
 * reference labels, then sklearn's `precision_recall_fscore_support(average="micro"|"macro", zero_division=0)`
 * over the 14 observations and over the 5 (Cardiomegaly, Edema, Consolidation, Atelectasis, Pleural Effusion).
 * Two conventions, reported under distinct names: uncertain as negative (LLaVA-Rad's plain columns) and uncertain
 * as positive (its `+` columns). Blank is negative. Macro averages include labels without support (F1 0).
 */

import { type AdditiveStats, pairwiseSum } from '../stats/index.js';
import { type CorpusScore, corpusScore, LLAVA_RAD_RESAMPLING, type MetricSignature } from '../text/index.js';
import { F1_CONDITIONS_5, F1_LABEL_ORDER, type LabelValue } from './chexpert/index.js';

export const LABEL_F1_VERSION = '1';

/** The label orders are defined with the observation names; the F1 API offers them too. */
export { F1_CONDITIONS_5, F1_LABEL_ORDER };

/** Labels of one report keyed by CheXpert observation name; a missing key is blank. */
export type LabelRecord = Readonly<Record<string, LabelValue | undefined>>;

export type LabelConvention = 'uncertain_neg' | 'uncertain_pos';
export const LABEL_CONVENTIONS: readonly LabelConvention[] = ['uncertain_neg', 'uncertain_pos'];

/** 1 positive; -1 uncertain counts as the convention says; 0 and blank are negative. */
export function binarise(v: LabelValue | undefined, convention: LabelConvention): 0 | 1 {
  if (v === 1) return 1;
  return v === -1 && convention === 'uncertain_pos' ? 1 : 0;
}

/** Per report and label: [tp, fp, fn] for each of the 14 labels in F1_LABEL_ORDER. */
const COUNTS_PER_LABEL = 3;

function labelCounts(
  preds: readonly LabelRecord[],
  refs: readonly LabelRecord[],
  c: LabelConvention,
): Float64Array {
  if (preds.length !== refs.length)
    throw new RangeError(`${preds.length} predictions, ${refs.length} references`);
  const width = F1_LABEL_ORDER.length * COUNTS_PER_LABEL;
  const rows = new Float64Array(preds.length * width);
  for (let i = 0; i < preds.length; i++) {
    F1_LABEL_ORDER.forEach((name, j) => {
      const p = binarise(preds[i]![name], c);
      const t = binarise(refs[i]![name], c);
      const at = i * width + j * COUNTS_PER_LABEL;
      rows[at] = p & t;
      rows[at + 1] = p & (1 - t);
      rows[at + 2] = (1 - p) & t;
    });
  }
  return rows;
}

export interface PrfRow {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

const divide = (num: number, den: number): number => (den === 0 ? 0 : num / den);

function prf(tp: number, fp: number, fn: number): PrfRow {
  const precision = divide(tp, tp + fp);
  const recall = divide(tp, tp + fn);
  const denom = precision + recall;
  // sklearn: (1 + beta^2) * P * R / (beta^2 * P + R), denominator 0 -> 0
  const f1 = denom === 0 ? 0 : (2 * precision * recall) / denom;
  return { precision, recall, f1, support: tp + fn };
}

const SUBSETS = {
  14: F1_LABEL_ORDER.map((_, j) => j),
  5: F1_CONDITIONS_5.map((name) => F1_LABEL_ORDER.indexOf(name)).sort((a, b) => a - b),
} as const;
export type LabelSubset = keyof typeof SUBSETS;
export type F1Average = 'micro' | 'macro';

/** Micro (pooled counts) or macro (numpy mean of per-label values) precision/recall/F1 from summed counts. */
export function averagePrf(sums: ArrayLike<number>, subset: LabelSubset, average: F1Average): PrfRow {
  const cols = SUBSETS[subset];
  const rows = cols.map((j) => prf(sums[3 * j]!, sums[3 * j + 1]!, sums[3 * j + 2]!));
  const support = rows.reduce((s, r) => s + r.support, 0);
  if (average === 'micro') {
    const tp = cols.reduce((s, j) => s + sums[3 * j]!, 0);
    const fp = cols.reduce((s, j) => s + sums[3 * j + 1]!, 0);
    const fn = cols.reduce((s, j) => s + sums[3 * j + 2]!, 0);
    return prf(tp, fp, fn);
  }
  const meanOf = (f: (r: PrfRow) => number) => pairwiseSum(rows.map(f)) / rows.length;
  return {
    precision: meanOf((r) => r.precision),
    recall: meanOf((r) => r.recall),
    f1: meanOf((r) => r.f1),
    support,
  };
}

/** `f1_14_micro`, `f1_5_macro_uncertain_pos`, ... */
export function labelF1Name(subset: LabelSubset, average: F1Average, convention: LabelConvention): string {
  return `f1_${subset}_${average}${convention === 'uncertain_pos' ? '_uncertain_pos' : ''}`;
}

/** LLaVA-Rad's column name for the same number, e.g. `Micro-F1-14+`. */
export function llavaRadF1Name(subset: LabelSubset, average: F1Average, convention: LabelConvention): string {
  const avg = average === 'micro' ? 'Micro' : 'Macro';
  return `${avg}-F1-${subset}${convention === 'uncertain_pos' ? '+' : ''}`;
}

export function labelF1Signature(
  labeler: string,
  subset: LabelSubset,
  average: F1Average,
  convention: LabelConvention,
): MetricSignature {
  return {
    name: labelF1Name(subset, average, convention),
    version: LABEL_F1_VERSION,
    compat: 'sklearn-1.2.1-prfs-zero_division0',
    tokenizer: 'none',
    case: 'mixed',
    smoothing: 'none',
    options: {
      labeler,
      labels: subset,
      average,
      uncertain: convention === 'uncertain_pos' ? 'positive' : 'negative',
      blank: 'negative',
      as: llavaRadF1Name(subset, average, convention),
    },
  };
}

/** All eight label-F1 numbers (micro/macro x 14/5 x both conventions), in a stable order. */
export function labelF1Scores(
  predictions: readonly LabelRecord[],
  references: readonly LabelRecord[],
  labeler: string,
): CorpusScore[] {
  const out: CorpusScore[] = [];
  for (const convention of LABEL_CONVENTIONS) {
    const rows = labelCounts(predictions, references, convention);
    for (const subset of [14, 5] as const) {
      for (const average of ['micro', 'macro'] as const) {
        const stats: AdditiveStats = {
          width: F1_LABEL_ORDER.length * COUNTS_PER_LABEL,
          rows,
          finalize: (sums) => averagePrf(sums, subset, average).f1,
        };
        const signature = labelF1Signature(labeler, subset, average, convention);
        out.push(
          corpusScore(signature, stats, {
            perPair: null,
            convention: 'median',
            scale: 1,
            resampling: LLAVA_RAD_RESAMPLING,
          }),
        );
      }
    }
  }
  return out;
}

/** Per-label precision / recall / F1 / support (sklearn classification_report rows) for one convention. */
export function perLabelReport(
  predictions: readonly LabelRecord[],
  references: readonly LabelRecord[],
  convention: LabelConvention,
): Record<string, PrfRow> {
  const rows = labelCounts(predictions, references, convention);
  const width = F1_LABEL_ORDER.length * COUNTS_PER_LABEL;
  const sums = new Float64Array(width);
  for (let i = 0; i < rows.length; i++) sums[i % width]! += rows[i]!;
  const out: Record<string, PrfRow> = {};
  F1_LABEL_ORDER.forEach((name, j) => {
    const at = j * COUNTS_PER_LABEL;
    out[name] = prf(sums[at]!, sums[at + 1]!, sums[at + 2]!);
  });
  return out;
}
