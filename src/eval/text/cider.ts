/**
 * CIDEr-D with pycocoevalcap's semantics (cider/cider_scorer.py, n = 4, sigma = 6): TF-IDF n-gram vectors
 * with document frequencies counted over the references of the scored set (so a subset scores differently
 * from the whole), IDF = log(N) - log(max(1, df)), hypothesis weights clipped to the reference's, cosine per
 * order, a Gaussian length penalty whose "length" is the number of bigrams (a quirk of the original), mean over
 * orders, x10. Tokenisation: lowercase, runs of [a-z0-9] (no PTB tokenizer, no Java).
 */
import { countNgrams, ngramOrder, Vocabulary } from './ngrams.js';
import {
  checkSameLength,
  LLAVA_RAD_RESAMPLING,
  type MetricSignature,
  meanOfPairs,
  type TextMetric,
} from './signature.js';
import { tokenizeLowerAlnum } from './tokenize.js';

export const CIDER_VERSION = '1';
const MAX_ORDER = 4;
const SIGMA = 6;
const CIDER_SCALE = 10;

interface NgramVector {
  /** n-gram (all orders; the order is the key length) -> tf-idf weight, in pycocoevalcap's insertion order */
  weights: Map<string, number>;
  /** per order n-1: Euclidean norm of that order's weights */
  norms: Float64Array;
  /** number of bigrams (pycocoevalcap counts `n == 1`, i.e. 2-grams, as the length) */
  length: number;
}

/** Turn n-gram counts into tf-idf weights in place (the map is not used as counts afterwards). */
function toVector(counts: Map<string, number>, idf: (ngram: string) => number): NgramVector {
  const squares = new Float64Array(MAX_ORDER);
  let length = 0;
  for (const [ngram, tf] of counts) {
    const order = ngramOrder(ngram);
    const v = tf * idf(ngram);
    counts.set(ngram, v);
    squares[order - 1]! += v ** 2;
    if (order === 2) length += tf;
  }
  return { weights: counts, norms: squares.map(Math.sqrt), length };
}

function similarity(hyp: NgramVector, ref: NgramVector): number {
  const delta = hyp.length - ref.length;
  const penalty = Math.E ** (-(delta ** 2) / (2 * SIGMA ** 2));
  const val = new Float64Array(MAX_ORDER);
  for (const [ngram, h] of hyp.weights) {
    const r = ref.weights.get(ngram);
    // clipped: min(hyp, ref) * ref
    if (r !== undefined) val[ngramOrder(ngram) - 1]! += Math.min(h, r) * r;
  }
  let sum = 0;
  for (let n = 0; n < MAX_ORDER; n++) {
    let v = val[n]!;
    if (hyp.norms[n] !== 0 && ref.norms[n] !== 0) v /= hyp.norms[n]! * ref.norms[n]!;
    sum += v * penalty;
  }
  return sum;
}

/**
 * Per-pair CIDEr-D of a whole scored set (document frequencies from its references). Two passes over the
 * references (df, then scores) so that only encoded token strings are held, not every reference's n-grams.
 */
export function ciderD(predictions: readonly string[], references: readonly string[]): Float64Array {
  checkSameLength(predictions, references);
  const vocab = new Vocabulary();
  const encodedRefs = references.map((r) => vocab.encode(tokenizeLowerAlnum(r)));
  const df = new Map<string, number>();
  for (const ref of encodedRefs) {
    for (const ngram of countNgrams(ref, MAX_ORDER).keys()) df.set(ngram, (df.get(ngram) ?? 0) + 1);
  }
  const logN = Math.log(references.length);
  // IDF = log(N) - log(max(1, df)); an n-gram no reference has gets log(N)
  for (const [ngram, d] of df) df.set(ngram, logN - Math.log(Math.max(1, d)));
  const idf = (ngram: string): number => df.get(ngram) ?? logN;
  const out = new Float64Array(predictions.length);
  for (let i = 0; i < predictions.length; i++) {
    const hyp = toVector(countNgrams(vocab.encode(tokenizeLowerAlnum(predictions[i]!)), MAX_ORDER), idf);
    const ref = toVector(countNgrams(encodedRefs[i]!, MAX_ORDER), idf);
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
    score: (predictions, references) =>
      meanOfPairs(signature, ciderD(predictions, references), 'point', CIDER_SCALE, LLAVA_RAD_RESAMPLING),
  };
}
