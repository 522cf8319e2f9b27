/**
 * The metric registry behind `cxr eval --metrics`: each name scores a corpus of prediction/reference pairs and
 * yields one or more `CorpusScore`s (chexpert-f1 yields eight: micro/macro x 14/5 x both conventions).
 */
import { inputError } from '../errors.js';
import { type LabelRecord, labelF1Scores, labelReports } from './labels/index.js';
import { bleuMetric, type CorpusScore, ciderMetric, rougeMetric } from './text/index.js';

/** Identifies the rule labeler in label-F1 signatures. */
export const RULE_LABELER = 'cxr-chexpert-rules';

export interface MetricRun {
  scores: CorpusScore[];
  /** labels per report when a label metric ran */
  labels?: { predictions: LabelRecord[]; references: LabelRecord[] };
}

type MetricFn = (predictions: readonly string[], references: readonly string[]) => MetricRun;

const text =
  (make: () => { score: (p: readonly string[], r: readonly string[]) => CorpusScore }): MetricFn =>
  (p, r) => ({ scores: [make().score(p, r)] });

export const METRICS: Record<string, { description: string; modelFree: boolean; run: MetricFn }> = {
  bleu1: {
    description: 'BLEU-1, sacrebleu (13a, exp smoothing), 0-100',
    modelFree: true,
    run: text(() => bleuMetric(1)),
  },
  bleu4: {
    description: 'BLEU-4, sacrebleu (13a, exp smoothing), 0-100',
    modelFree: true,
    run: text(() => bleuMetric(4)),
  },
  rougeL: {
    description: 'ROUGE-L F, rouge_score, no stemmer',
    modelFree: true,
    run: text(() => rougeMetric()),
  },
  'rougeL-stem': {
    description: 'ROUGE-L F, rouge_score with NLTK Porter stemmer',
    modelFree: true,
    run: text(() => rougeMetric({ stemmer: true })),
  },
  cider: { description: 'CIDEr-D, pycocoevalcap (x10)', modelFree: true, run: text(() => ciderMetric()) },
  'chexpert-f1': {
    description:
      'CheXpert-label F1 (rule labeler), micro/macro over 14 and 5, uncertain as negative and as positive',
    modelFree: true,
    run: (p, r) => {
      const predictions = labelReports([...p]);
      const references = labelReports([...r]);
      return {
        scores: labelF1Scores(predictions, references, RULE_LABELER),
        labels: { predictions, references },
      };
    },
  },
};

/** Model-free metrics (all by default); rougeL-stem is opt-in because LLaVA-Rad reports ROUGE-L unstemmed. */
export const DEFAULT_METRICS = ['bleu1', 'bleu4', 'rougeL', 'cider', 'chexpert-f1'];

/** Parse `--metrics a,b,c` (or `all`), rejecting unknown names with the list of known ones. */
export function parseMetricList(spec: string | undefined): string[] {
  if (spec === undefined) return DEFAULT_METRICS;
  const names = spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  // An empty list is a mistake (an unset shell variable, say), not a request for the defaults.
  if (names.length === 0) {
    throw inputError('eval.unknown_metric', 'no metric named', {
      field: '--metrics',
      expected: `a comma-separated list of ${Object.keys(METRICS).join(', ')} (or all)`,
      found: JSON.stringify(spec),
    });
  }
  if (names.length === 1 && names[0] === 'all') return Object.keys(METRICS);
  const unknown = names.filter((n) => !(n in METRICS));
  if (unknown.length > 0) {
    throw inputError('eval.unknown_metric', `unknown metric ${unknown.join(', ')}`, {
      field: '--metrics',
      expected: `a comma-separated list of ${Object.keys(METRICS).join(', ')} (or all)`,
      found: spec,
    });
  }
  return [...new Set(names)];
}
