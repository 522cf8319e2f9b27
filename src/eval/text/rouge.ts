/**
 * ROUGE-L with Google rouge_score semantics (`RougeScorer(["rougeL"], use_stemmer)`): lowercase, runs of
 * [a-z0-9] as tokens, optional NLTK Porter stemming of tokens longer than 3 characters, LCS precision /
 * recall / F-measure (beta 1); 0 when either side has no tokens. Corpus value: mean F over pairs.
 */
import { cachedStemmer } from './porter.js';
import {
  type CorpusScore,
  checkSameLength,
  LLAVA_RAD_RESAMPLING,
  type MetricSignature,
  meanOfPairs,
  type TextMetric,
} from './signature.js';
import { tokenizeLowerAlnum } from './tokenize.js';

export const ROUGE_VERSION = '1';
/** rouge_score stems only tokens longer than this. */
const STEM_MIN_EXCLUSIVE = 3;

export interface RougeOptions {
  stemmer?: boolean;
}

export interface Prf {
  precision: number;
  recall: number;
  fmeasure: number;
}

export function rougeTokenizer(options: RougeOptions = {}): (text: string) => string[] {
  if (!options.stemmer) return tokenizeLowerAlnum;
  const stem = cachedStemmer();
  return (text) => tokenizeLowerAlnum(text).map((t) => (t.length > STEM_MIN_EXCLUSIVE ? stem(t) : t));
}

const WORD_BITS = 32;
const ALL_ONES = 0xffffffff;
const WORD_CARRY = 2 ** 32;

/**
 * Length of the longest common subsequence, bit-parallel (Hyyrö 2004): one bit per token of the shorter
 * sequence, V' = (V + (V & M[t])) | (V & ~M[t]) for each token t of the longer one; the LCS length is the number
 * of zero bits. O(n * m / 32) time, so long reports stay cheap.
 */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  const [long, short] = a.length >= b.length ? [a, b] : [b, a];
  const m = short.length;
  if (m === 0) return 0;
  const words = Math.ceil(m / WORD_BITS);
  // match masks: for each token of the short sequence, the positions where it occurs
  const masks = new Map<string, Uint32Array>();
  short.forEach((t, i) => {
    let mask = masks.get(t);
    if (mask === undefined) {
      mask = new Uint32Array(words);
      masks.set(t, mask);
    }
    mask[i >>> 5]! |= 1 << (i & (WORD_BITS - 1));
  });
  const v = new Uint32Array(words).fill(ALL_ONES);
  for (const token of long) {
    const mask = masks.get(token);
    if (mask === undefined) continue; // U = 0 leaves V unchanged
    let carry = 0;
    for (let w = 0; w < words; w++) {
      const vw = v[w]!;
      const u = (vw & mask[w]!) >>> 0;
      const sum = vw + u + carry;
      carry = sum >= WORD_CARRY ? 1 : 0;
      v[w] = ((sum >>> 0) | (vw & ~mask[w]!)) >>> 0;
    }
  }
  let zeros = 0;
  for (let i = 0; i < m; i++) if (((v[i >>> 5]! >>> (i & (WORD_BITS - 1))) & 1) === 0) zeros++;
  return zeros;
}

/** rouge_score `scoring.fmeasure`. */
export function fmeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

export function rougeLOfTokens(target: readonly string[], prediction: readonly string[]): Prf {
  if (target.length === 0 || prediction.length === 0) return { precision: 0, recall: 0, fmeasure: 0 };
  const lcs = lcsLength(target, prediction);
  const precision = lcs / prediction.length;
  const recall = lcs / target.length;
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

/** `RougeScorer(["rougeL"], use_stemmer).score(reference, prediction)["rougeL"]`. */
export function rougeL(reference: string, prediction: string, options: RougeOptions = {}): Prf {
  const tok = rougeTokenizer(options);
  return rougeLOfTokens(tok(reference), tok(prediction));
}

export function rougeSignature(options: RougeOptions = {}): MetricSignature {
  return {
    name: options.stemmer ? 'rougeL-stem' : 'rougeL',
    version: ROUGE_VERSION,
    compat: 'rouge_score-0.1.2',
    tokenizer: options.stemmer ? 'rouge+porter-nltk3.8' : 'rouge',
    case: 'lc',
    smoothing: 'none',
    options: { measure: 'f', beta: 1, stemmer: Boolean(options.stemmer), agg: 'mean' },
  };
}

export function rougeMetric(options: RougeOptions = {}): TextMetric {
  const signature = rougeSignature(options);
  return {
    name: signature.name,
    signature,
    score(predictions, references): CorpusScore {
      checkSameLength(predictions, references);
      const tok = rougeTokenizer(options);
      const perPair = new Float64Array(predictions.length);
      for (let i = 0; i < predictions.length; i++) {
        perPair[i] = rougeLOfTokens(tok(references[i]!), tok(predictions[i]!)).fmeasure;
      }
      return meanOfPairs(signature, perPair, 'mid', 1, LLAVA_RAD_RESAMPLING);
    },
  };
}
