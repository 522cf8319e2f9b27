/**
 * BLEU with sacrebleu 2.6.0 semantics: 13a tokenisation, case-sensitive, one reference, exponential
 * smoothing, corpus statistics summed over pairs, 0-100 scale. Sentence BLEU uses effective order, as
 * `sacrebleu.sentence_bleu` does; corpus BLEU does not.
 */
import type { AdditiveStats } from '../stats/index.js';
import { countNgrams, ngramOrder, tokenCount, Vocabulary } from './ngrams.js';
import {
  type CorpusScore,
  checkSameLength,
  corpusScore,
  type MetricSignature,
  SACREBLEU_RESAMPLING,
  type TextMetric,
} from './signature.js';
import { tokenize13a } from './tokenize.js';

export const BLEU_VERSION = '1';
const SACREBLEU = 'sacrebleu-2.6.0';
const PERCENT = 100;
/** sacrebleu's my_log(0): a huge negative number so that exp() gives 0 without a -Infinity. */
const LOG_ZERO = -9999999999;

/** Sufficient statistics of one pair: [sysLen, refLen, correct_1..N, total_1..N]. */
export type BleuStats = Float64Array;

export interface BleuScore {
  score: number;
  precisions: number[];
  bp: number;
  sysLen: number;
  refLen: number;
}

/** Statistics of hypothesis and reference encoded by one `Vocabulary`. */
export function bleuStatsOfEncoded(hyp: string, ref: string, maxOrder: number): BleuStats {
  const stats = new Float64Array(2 + 2 * maxOrder);
  stats[0] = tokenCount(hyp);
  stats[1] = tokenCount(ref);
  const refCounts = countNgrams(ref, maxOrder);
  for (const [ngram, count] of countNgrams(hyp, maxOrder)) {
    const n = ngramOrder(ngram) - 1;
    stats[2 + maxOrder + n]! += count;
    const inRef = refCounts.get(ngram);
    if (inRef !== undefined) stats[2 + n]! += Math.min(count, inRef);
  }
  return stats;
}

export function bleuStats(
  hypothesis: string,
  reference: string,
  maxOrder = 4,
  vocab = new Vocabulary(),
): BleuStats {
  return bleuStatsOfEncoded(
    vocab.encode(tokenize13a(hypothesis)),
    vocab.encode(tokenize13a(reference)),
    maxOrder,
  );
}

/** sacrebleu `BLEU.compute_bleu` with smooth_method="exp". */
export function computeBleu(stats: ArrayLike<number>, maxOrder: number, effectiveOrder: boolean): BleuScore {
  const sysLen = stats[0]!;
  const refLen = stats[1]!;
  let bp = 1;
  if (sysLen < refLen) bp = sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0;
  const precisions = new Array<number>(maxOrder).fill(0);
  let anyCorrect = false;
  for (let n = 0; n < maxOrder; n++) if (stats[2 + n]! > 0) anyCorrect = true;
  // sacrebleu #141: no match at any order scores 0 outright
  if (!anyCorrect) return { score: 0, precisions, bp, sysLen, refLen };
  let smooth = 1;
  let effOrder = maxOrder;
  for (let n = 1; n <= maxOrder; n++) {
    const correct = stats[1 + n]!;
    const total = stats[1 + maxOrder + n]!;
    if (total === 0) break;
    if (effectiveOrder) effOrder = n;
    if (correct === 0) {
      smooth *= 2;
      precisions[n - 1] = PERCENT / (smooth * total);
    } else {
      precisions[n - 1] = (PERCENT * correct) / total;
    }
  }
  let logSum = 0;
  for (let n = 0; n < effOrder; n++) logSum += precisions[n] === 0 ? LOG_ZERO : Math.log(precisions[n]!);
  return { score: bp * Math.exp(logSum / effOrder), precisions, bp, sysLen, refLen };
}

/** `sacrebleu.sentence_bleu(hyp, [ref])` (effective order on), for max order 4 or `BLEU(max_ngram_order=1)`. */
export function sentenceBleu(hypothesis: string, reference: string, maxOrder = 4): number {
  return computeBleu(bleuStats(hypothesis, reference, maxOrder), maxOrder, true).score;
}

/** `BLEU(max_ngram_order).corpus_score(hyps, [refs])`. */
export function corpusBleu(
  hypotheses: readonly string[],
  references: readonly string[],
  maxOrder = 4,
): BleuScore {
  checkSameLength(hypotheses, references);
  return computeBleu(sumStats(hypotheses, references, maxOrder), maxOrder, false);
}

function sumStats(
  hypotheses: readonly string[],
  references: readonly string[],
  maxOrder: number,
): Float64Array {
  const sums = new Float64Array(2 + 2 * maxOrder);
  for (let i = 0; i < hypotheses.length; i++) {
    const s = bleuStats(hypotheses[i]!, references[i]!, maxOrder);
    for (let j = 0; j < s.length; j++) sums[j]! += s[j]!;
  }
  return sums;
}

export function bleuSignature(maxOrder: number): MetricSignature {
  return {
    name: `bleu${maxOrder}`,
    version: BLEU_VERSION,
    compat: SACREBLEU,
    tokenizer: '13a',
    case: 'mixed',
    smoothing: 'exp',
    options: { nrefs: 1, order: maxOrder, eff: 'no', sentence: 'eff-yes', scale: '0-100' },
  };
}

export function bleuMetric(maxOrder: number): TextMetric {
  const signature = bleuSignature(maxOrder);
  return {
    name: signature.name,
    signature,
    score(predictions, references): CorpusScore {
      checkSameLength(predictions, references);
      const width = 2 + 2 * maxOrder;
      const rows = new Float64Array(predictions.length * width);
      const perPair = new Float64Array(predictions.length);
      const vocab = new Vocabulary();
      for (let i = 0; i < predictions.length; i++) {
        const s = bleuStats(predictions[i]!, references[i]!, maxOrder, vocab);
        rows.set(s, i * width);
        perPair[i] = computeBleu(s, maxOrder, true).score;
      }
      const stats: AdditiveStats = {
        width,
        rows,
        finalize: (sums) => computeBleu(sums, maxOrder, false).score,
      };
      return corpusScore(signature, stats, {
        perPair,
        convention: 'corpus',
        scale: PERCENT,
        resampling: SACREBLEU_RESAMPLING,
      });
    },
  };
}
