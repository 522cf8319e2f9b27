/**
 * Every number cxr reports carries a signature built from the options that produced it (as sacrebleu's
 * `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0`), so two numbers can always be told apart.
 */
import { type AdditiveStats, pointValue, type ReportConvention, type RngKind } from '../stats/index.js';

export interface MetricSignature {
  /** metric name as selected on the command line, e.g. `bleu4` */
  name: string;
  /** version of cxr's implementation of this metric; bump when a number could change */
  version: string;
  /** the reference implementation whose semantics are reproduced */
  compat: string;
  tokenizer: string;
  case: 'mixed' | 'lc';
  smoothing: string;
  /** further options that change the number (n-gram order, stemmer, label convention, ...) */
  options: Record<string, string | number | boolean>;
}

export function formatSignature(s: MetricSignature, bootstrap?: string): string {
  const parts = [
    s.name,
    `v:${s.version}`,
    `compat:${s.compat}`,
    `tok:${s.tokenizer}`,
    `case:${s.case}`,
    `smooth:${s.smoothing}`,
    ...Object.entries(s.options).map(([k, v]) => `${k}:${String(v)}`),
  ];
  if (bootstrap) parts.push(bootstrap);
  return parts.join('|');
}

/** One metric over a set of prediction/reference pairs. */
export interface CorpusScore {
  name: string;
  signature: MetricSignature;
  /** corpus value over all pairs (corpus BLEU, mean ROUGE-L F, CIDEr-D, label F1) */
  value: number;
  /** per-pair value in input order (sentence BLEU, pair ROUGE-L F, pair CIDEr-D); null where not defined */
  perPair: Float64Array | null;
  /** sufficient statistics: their sum over any subset gives that subset's value (bootstrap, paired tests) */
  stats: AdditiveStats;
  /** how a bootstrap of this metric is reported (SPEC.md §5) */
  convention: ReportConvention;
  /** 100 for BLEU (0-100), 1 for fractions, 10 for CIDEr-D's x10 scale */
  scale: number;
  /** the reference implementation's resampling: generator and default seed */
  resampling: Resampling;
}

export interface Resampling {
  generator: RngKind;
  seed: number;
}

/** sacrebleu: `np.random.default_rng(SACREBLEU_SEED = 12345)`. */
export const SACREBLEU_RESAMPLING: Resampling = { generator: 'pcg64', seed: 12345 };
/** LLaVA-Rad: `np.random.seed(3)` before rouge_score, `random_state=3` in scipy.stats.bootstrap. */
export const LLAVA_RAD_RESAMPLING: Resampling = { generator: 'mt19937', seed: 3 };

/** A text-overlap metric: the small contract every file in src/eval/text implements. */
export interface TextMetric {
  name: string;
  signature: MetricSignature;
  score(predictions: readonly string[], references: readonly string[]): CorpusScore;
}

export function checkSameLength(predictions: readonly string[], references: readonly string[]): void {
  if (predictions.length !== references.length) {
    throw new RangeError(`${predictions.length} predictions but ${references.length} references`);
  }
}

/** How a score is reported: everything of a CorpusScore but the statistics and the value they give. */
export type ScoreReport = Pick<CorpusScore, 'perPair' | 'convention' | 'scale' | 'resampling'>;

/** A score from its sufficient statistics; the corpus value is theirs over every pair. */
export function corpusScore(
  signature: MetricSignature,
  stats: AdditiveStats,
  report: ScoreReport,
): CorpusScore {
  return { name: signature.name, signature, value: pointValue(stats), stats, ...report };
}

/** A corpus value that is the plain mean of per-pair values (ROUGE-L F, CIDEr-D). */
export function meanOfPairs(
  signature: MetricSignature,
  perPair: Float64Array,
  convention: ReportConvention,
  scale: number,
  resampling: Resampling,
): CorpusScore {
  const stats: AdditiveStats = { width: 1, rows: perPair, finalize: (sums, n) => sums[0]! / n };
  return corpusScore(signature, stats, { perPair, convention, scale, resampling });
}
