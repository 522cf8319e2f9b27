/** tokenizer/: SentencePiece BPE read from tokenizer.model with the slow LLaMA rules; WordPiece (BERT). */
export {
  type DecodeOptions,
  type EncodeOptions,
  LlamaTokenizer,
  type LlamaTokenizerOptions,
  TOKENIZER_CONFIG_FILE,
} from './llama.js';
export { decodeUtf8Bytes, SentencePieceBpe, SPACE_SYMBOL } from './sentencepiece.js';
export {
  emptyModel,
  ModelType,
  PieceType,
  parseSentencePieceModel,
  readSentencePieceModel,
  type SentencePiece,
  type SentencePieceModel,
} from './sentencepiece-model.js';
export { BERT_SPECIAL_TOKENS, CHEXBERT_MAX_IDS, prepareReport, WordPieceTokenizer } from './wordpiece.js';
