/**
 * CIDEr-D with pycocoevalcap's semantics (cider/cider_scorer.py, n = 4, sigma = 6): TF-IDF n-gram vectors
 * with document frequencies counted over the references of the scored set (so a subset scores differently
 * from the whole), IDF = log(N) - log(max(1, df)), hypothesis weights clipped to the reference's, cosine per
 * order, a Gaussian length penalty whose "length" is the number of bigrams (a quirk of the original), mean over
 * orders, x10. Tokenisation: lowercase, runs of [a-z0-9] (no PTB tokenizer, no Java).
 */
import { type AdditiveStats, pointValue } from '../stats/index.js';
import { countNgrams, ngramOrder, Vocabulary } from './ngrams.js';
import {
  type CorpusScore,
  checkSameLength,
  LLAVA_RAD_RESAMPLING,
  type MetricSignature,
  type TextMetric,
} from './signature.js';
import { tokenizeLowerAlnum } from './tokenize.js';

export const CIDER_VERSION = '1';
const MAX_ORDER = 4;
const SIGMA = 6;
const CIDER_SCALE = 10;

interface NgramVector {
  /** per order n-1: ngram -> tf-idf weight */
  weights: Map<string, number>[];
  norms: number[];
  /** number of bigrams (pycocoevalcap counts `n == 1`, i.e. 2-grams, as the length) */
  length: number;
}

/** Counts per order (index n - 1), each in the insertion order of pycocoevalcap's precook. */
function ngramCounts(encoded: string): Map<string, number>[] {
  const byOrder: Map<string, number>[] = Array.from({ length: MAX_ORDER }, () => new Map());
  for (const [key, count] of countNgrams(encoded, MAX_ORDER)) byOrder[ngramOrder(key) - 1]!.set(key, count);
  return byOrder;
}

function toVector(counts: Map<string, number>[], df: Map<string, number>, logN: number): NgramVector {
  const weights: Map<string, number>[] = [];
  const norms: number[] = [];
  let length = 0;
  counts.forEach((order, n) => {
    const w = new Map<string, number>();
    let sq = 0;
    for (const [ngram, tf] of order) {
      const v = tf * (logN - Math.log(Math.max(1, df.get(ngram) ?? 0)));
      w.set(ngram, v);
      sq += v ** 2;
      if (n === 1) length += tf;
    }
    weights.push(w);
    norms.push(Math.sqrt(sq));
  });
  return { weights, norms, length };
}

function similarity(hyp: NgramVector, ref: NgramVector): number {
  const delta = hyp.length - ref.length;
  const penalty = Math.E ** (-(delta ** 2) / (2 * SIGMA ** 2));
  let sum = 0;
  for (let n = 0; n < MAX_ORDER; n++) {
    let val = 0;
    const refWeights = ref.weights[n]!;
    for (const [ngram, h] of hyp.weights[n]!) {
      const r = refWeights.get(ngram) ?? 0;
      val += Math.min(h, r) * r;
    }
    if (hyp.norms[n] !== 0 && ref.norms[n] !== 0) val /= hyp.norms[n]! * ref.norms[n]!;
    sum += val * penalty;
  }
  return sum;
}

/** Per-pair CIDEr-D of a whole scored set (document frequencies from its references). */
export function ciderD(predictions: readonly string[], references: readonly string[]): Float64Array {
  checkSameLength(predictions, references);
  const vocab = new Vocabulary();
  const refCounts = references.map((r) => ngramCounts(vocab.encode(tokenizeLowerAlnum(r))));
  const df = new Map<string, number>();
  for (const orders of refCounts) {
    for (const order of orders) for (const ngram of order.keys()) df.set(ngram, (df.get(ngram) ?? 0) + 1);
  }
  const logN = Math.log(references.length);
  const out = new Float64Array(predictions.length);
  for (let i = 0; i < predictions.length; i++) {
    const hyp = toVector(ngramCounts(vocab.encode(tokenizeLowerAlnum(predictions[i]!))), df, logN);
    const ref = toVector(refCounts[i]!, df, logN);
    // mean over the 4 orders, one reference, x10
    out[i] = (similarity(hyp, ref) / MAX_ORDER) * CIDER_SCALE;
  }
  return out;
}

export function ciderSignature(): MetricSignature {
  return {
    name: 'cider',
    version: CIDER_VERSION,
    compat: 'pycocoevalcap-ad63453-cider-d',
    tokenizer: 'lower-alnum',
    case: 'lc',
    smoothing: 'none',
    options: { n: MAX_ORDER, sigma: SIGMA, df: 'corpus-refs', scale: 'x10' },
  };
}

export function ciderMetric(): TextMetric {
  const signature = ciderSignature();
  return {
    name: signature.name,
    signature,
    score(predictions, references): CorpusScore {
      const perPair = ciderD(predictions, references);
      const stats: AdditiveStats = { width: 1, rows: perPair, finalize: (sums, n) => sums[0]! / n };
      return {
        name: signature.name,
        signature,
        value: pointValue(stats),
        perPair,
        stats,
        convention: 'point',
        scale: CIDER_SCALE,
        resampling: LLAVA_RAD_RESAMPLING,
      };
    },
  };
}
