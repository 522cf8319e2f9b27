/**
 * F1-CheXbert as LLaVA-Rad's rrg_eval computes it: CheXbert classes per observation, binarised in two conventions
 * (`rrg`: positive only; `rrg+`: positive or uncertain), sklearn classification reports over 14 and 5 observations.
 */
import { type ClassificationReport, classificationReport } from './chexbert-report.js';

/** CheXbert's heads in output order (No Finding last, unlike the CheXpert CSV order). */
export const CHEXBERT_CONDITIONS = [
  'Enlarged Cardiomediastinum',
  'Cardiomegaly',
  'Lung Opacity',
  'Lung Lesion',
  'Edema',
  'Consolidation',
  'Pneumonia',
  'Atelectasis',
  'Pneumothorax',
  'Pleural Effusion',
  'Pleural Other',
  'Fracture',
  'Support Devices',
  'No Finding',
] as const;

/** The 5 observations of the "-5" scores (SPEC.md §5). */
export const CHEXBERT_CONDITIONS_5 = [
  'Cardiomegaly',
  'Edema',
  'Consolidation',
  'Atelectasis',
  'Pleural Effusion',
] as const;

/** Class codes of the heads: argmax index. The No Finding head has only blank and positive. */
export const ChexbertClass = { blank: 0, positive: 1, negative: 2, uncertain: 3 } as const;
export type ChexbertClassCode = (typeof ChexbertClass)[keyof typeof ChexbertClass];

/** rrg: uncertain counts as negative (LLaVA-Rad's plain columns); rrg+: uncertain counts as positive. */
export type ChexbertConvention = 'rrg' | 'rrg+';

/** CheXpert label values: 1 positive, 0 negative, -1 uncertain, null not mentioned. */
export type ChexpertValue = 1 | 0 | -1 | null;

const CHEXPERT_VALUE: Record<number, ChexpertValue> = { 0: null, 1: 1, 2: 0, 3: -1 };

/** `map_to_binary`: 1 for positive (and for uncertain under rrg+), else 0. */
export function toBinary(classes: readonly number[], convention: ChexbertConvention): number[] {
  const uncertain = convention === 'rrg+' ? 1 : 0;
  return classes.map((c) =>
    c === ChexbertClass.positive ? 1 : c === ChexbertClass.uncertain ? uncertain : 0,
  );
}

/** Classes as CheXpert values keyed by observation name. */
export function toChexpertLabels(classes: readonly number[]): Record<string, ChexpertValue> {
  const out: Record<string, ChexpertValue> = {};
  CHEXBERT_CONDITIONS.forEach((name, j) => {
    out[name] = CHEXPERT_VALUE[classes[j]!] ?? null;
  });
  return out;
}

export interface ChexbertReports {
  report_14: ClassificationReport;
  report_5: ClassificationReport;
}

/** The four sklearn reports of `evaluate()`: 14 and 5 observations in one convention. */
export function chexbertReports(
  refClasses: readonly (readonly number[])[],
  predClasses: readonly (readonly number[])[],
  convention: ChexbertConvention,
): ChexbertReports {
  const yTrue = refClasses.map((c) => toBinary(c, convention));
  const yPred = predClasses.map((c) => toBinary(c, convention));
  const five = CHEXBERT_CONDITIONS_5.map((n) => CHEXBERT_CONDITIONS.indexOf(n));
  const pick = (rows: number[][]) => rows.map((r) => five.map((j) => r[j]!));
  return {
    report_14: classificationReport(yTrue, yPred, CHEXBERT_CONDITIONS),
    report_5: classificationReport(pick(yTrue), pick(yPred), CHEXBERT_CONDITIONS_5),
  };
}

/**
 * The headline numbers under the evaluation suite's names: micro and macro F1 over 14 and 5 observations,
 * `_uncertain_pos` for the rrg+ convention.
 */
export function chexbertF1(
  refClasses: readonly (readonly number[])[],
  predClasses: readonly (readonly number[])[],
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const convention of ['rrg', 'rrg+'] as const) {
    const suffix = convention === 'rrg+' ? '_uncertain_pos' : '';
    const { report_14, report_5 } = chexbertReports(refClasses, predClasses, convention);
    for (const [n, report] of [
      [14, report_14],
      [5, report_5],
    ] as const) {
      out[`f1_${n}_micro${suffix}`] = report['micro avg']!['f1-score'];
      out[`f1_${n}_macro${suffix}`] = report['macro avg']!['f1-score'];
    }
  }
  return out;
}
