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

/** Length of the longest common subsequence, O(n*m) time, O(min) memory. */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  const [long, short] = a.length >= b.length ? [a, b] : [b, a];
  if (short.length === 0) return 0;
  // map tokens to small integers so the inner loop compares numbers
  const ids = new Map<string, number>();
  const idOf = (t: string): number => {
    let id = ids.get(t);
    if (id === undefined) {
      id = ids.size;
      ids.set(t, id);
    }
    return id;
  };
  const s = Int32Array.from(short, idOf);
  let prev = new Int32Array(s.length + 1);
  let cur = new Int32Array(s.length + 1);
  for (const token of long) {
    const t = ids.get(token) ?? -1;
    for (let j = 1; j <= s.length; j++) {
      cur[j] = s[j - 1] === t ? prev[j - 1]! + 1 : Math.max(prev[j]!, cur[j - 1]!);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[s.length]!;
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
