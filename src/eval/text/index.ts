export {
  BLEU_VERSION,
  type BleuScore,
  bleuMetric,
  bleuSignature,
  bleuStats,
  computeBleu,
  corpusBleu,
  sentenceBleu,
} from './bleu.js';
export { CIDER_VERSION, ciderD, ciderMetric, ciderSignature } from './cider.js';
export { cachedStemmer, porterStem } from './porter.js';
export {
  lcsLength,
  type Prf,
  ROUGE_VERSION,
  type RougeOptions,
  rougeL,
  rougeMetric,
  rougeSignature,
} from './rouge.js';
export {
  type CorpusScore,
  corpusScore,
  formatSignature,
  LLAVA_RAD_RESAMPLING,
  type MetricSignature,
  type Resampling,
  SACREBLEU_RESAMPLING,
  type ScoreReport,
  type TextMetric,
} from './signature.js';
export { pySplit, tokenize13a, tokenizeLowerAlnum } from './tokenize.js';
