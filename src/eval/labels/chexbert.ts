/**
 * F1-CheXbert as LLaVA-Rad's rrg_eval computes it: CheXbert classes per observation, binarised in two conventions
 * (`rrg`: positive only; `rrg+`: positive or uncertain), sklearn classification reports over 14 and 5 observations.
 */
import type { CorpusScore } from '../text/index.js';
import type { ChexbertLabeler, ChexbertLoadOptions } from './chexbert-labeler.js';
import { type ClassificationReport, classificationReport } from './chexbert-report.js';
import { CHEXPERT_OBSERVATIONS, type Labels14 } from './chexpert/index.js';
import { F1_CONDITIONS_5, F1_LABEL_ORDER, labelF1Scores } from './f1.js';

export type { ChexbertLabeler, ChexbertLoadOptions, ChexbertResult } from './chexbert-labeler.js';
export type { ClassificationReport, ReportRow as ClassificationReportRow } from './chexbert-report.js';

/** Identifies CheXbert in label-F1 signatures. */
export const CHEXBERT_LABELER = 'chexbert';

/** CheXbert's heads in output order (No Finding last, unlike the CheXpert CSV order): the F1 label order. */
export const CHEXBERT_CONDITIONS = F1_LABEL_ORDER;

/** The 5 observations of the "-5" scores (SPEC.md §5). */
export const CHEXBERT_CONDITIONS_5 = F1_CONDITIONS_5;

/** Class codes of the heads: argmax index. The No Finding head has only blank and positive. */
export const ChexbertClass = { blank: 0, positive: 1, negative: 2, uncertain: 3 } as const;
export type ChexbertClassCode = (typeof ChexbertClass)[keyof typeof ChexbertClass];

/** rrg: uncertain counts as negative (LLaVA-Rad's plain columns); rrg+: uncertain counts as positive. */
export type ChexbertConvention = 'rrg' | 'rrg+';

/** Class code -> CheXpert value: 1 positive, 0 negative, -1 uncertain, null not mentioned. */
const CHEXPERT_VALUE: Record<number, 1 | 0 | -1 | null> = { 0: null, 1: 1, 2: 0, 3: -1 };

/** `map_to_binary`: 1 for positive (and for uncertain under rrg+), else 0. */
export function toBinary(classes: readonly number[], convention: ChexbertConvention): number[] {
  const uncertain = convention === 'rrg+' ? 1 : 0;
  return classes.map((c) =>
    c === ChexbertClass.positive ? 1 : c === ChexbertClass.uncertain ? uncertain : 0,
  );
}

/** Classes as CheXpert values keyed by observation name, in the rule labeler's key order. */
export function toChexpertLabels(classes: readonly number[]): Labels14 {
  const byName = new Map<string, number>(CHEXBERT_CONDITIONS.map((name, j) => [name, classes[j]!]));
  return Object.fromEntries(
    CHEXPERT_OBSERVATIONS.map((o) => [o, CHEXPERT_VALUE[byName.get(o)!] ?? null]),
  ) as Labels14;
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
 * The eight label-F1 scores (micro/macro x 14/5 x both conventions) of CheXbert classes, through the evaluation
 * suite's F1 (names `f1_14_micro`, ..., `f1_5_macro_uncertain_pos`; signatures name the labeler).
 */
export function chexbertF1Scores(
  refClasses: readonly (readonly number[])[],
  predClasses: readonly (readonly number[])[],
): CorpusScore[] {
  return labelF1Scores(predClasses.map(toChexpertLabels), refClasses.map(toChexpertLabels), CHEXBERT_LABELER);
}

/** Open the labeler; onnxruntime is loaded only now, so importing this module stays cheap. */
export async function openChexbert(weightsPath: string, opts: ChexbertLoadOptions): Promise<ChexbertLabeler> {
  const { ChexbertLabeler } = await import('./chexbert-labeler.js');
  return ChexbertLabeler.open(weightsPath, opts);
}
