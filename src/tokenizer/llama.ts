/**
 * The slow LLaMA tokenizer of transformers 4.31 (`LlamaTokenizer`, the one LLaVA-Rad loads with
 * `use_fast=False`), on top of our SentencePiece BPE:
 * - special-token literals (`<s>`, `</s>`, `<unk>`) in the text become their ids, the rest is encoded by
 *   SentencePiece chunk by chunk;
 * - `legacy: false` (the shipped Vicuna tokenizer_config.json) prefixes the text with one U+2581 and strips the
 *   dummy-prefix space from chunks that follow a special token; `legacy: true` encodes each chunk plainly;
 * - a BOS is prepended (add_bos_token) and no EOS (add_eos_token);
 * - decoding joins SentencePiece decodes of the runs between special tokens, as `convert_tokens_to_string`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { inputError } from '../errors.js';
import { SentencePieceBpe, SPACE_SYMBOL } from './sentencepiece.js';
import { readSentencePieceModel } from './sentencepiece-model.js';

export interface LlamaTokenizerOptions {
  /** transformers' `legacy` flag (4.31 defaults to true when tokenizer_config.json does not say). */
  legacy?: boolean;
  addBosToken?: boolean;
  addEosToken?: boolean;
}

export interface EncodeOptions {
  /** Add BOS/EOS as configured (default true), like `tokenizer(text).input_ids`. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  skipSpecialTokens?: boolean;
}

/** The companion file transformers reads beside tokenizer.model. */
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';
/** transformers 4.31 `LlamaTokenizer.__init__` default when the config has no `legacy` key. */
const DEFAULT_LEGACY = true;

export class LlamaTokenizer {
  readonly sp: SentencePieceBpe;
  readonly legacy: boolean;
  readonly addBosToken: boolean;
  readonly addEosToken: boolean;
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  readonly unkTokenId: number;
  /** Vicuna's pad token is `<unk>`. */
  readonly padTokenId: number;
  /** `all_special_ids`: what `skip_special_tokens` removes. */
  readonly specialIds: ReadonlySet<number>;
  /** Special-token literals, longest first, as the tokenizer's trie matches them in text. */
  private readonly specialLiterals: string[];

  constructor(sp: SentencePieceBpe, options: LlamaTokenizerOptions = {}) {
    this.sp = sp;
    this.legacy = options.legacy ?? DEFAULT_LEGACY;
    this.addBosToken = options.addBosToken ?? true;
    this.addEosToken = options.addEosToken ?? false;
    const m = sp.model;
    this.bosTokenId = m.bosId;
    this.eosTokenId = m.eosId;
    this.unkTokenId = m.unkId;
    this.padTokenId = m.unkId;
    this.specialIds = new Set([m.bosId, m.eosId, m.unkId]);
    this.specialLiterals = [...this.specialIds]
      .map((id) => sp.idToPiece(id))
      .sort((a, b) => b.length - a.length);
  }

  /**
   * Load `tokenizer.model`, taking `legacy`, `add_bos_token` and `add_eos_token` from a tokenizer_config.json
   * beside it when there is one (as `AutoTokenizer.from_pretrained` does); `options` override both.
   */
  static fromFile(modelPath: string, options: LlamaTokenizerOptions = {}): LlamaTokenizer {
    const sp = new SentencePieceBpe(readSentencePieceModel(modelPath), modelPath);
    return new LlamaTokenizer(sp, { ...readTokenizerConfig(dirname(modelPath)), ...options });
  }

  get vocabSize(): number {
    return this.sp.vocabSize;
  }

  /** Pieces of `text` without BOS/EOS (`tokenizer.tokenize`). */
  tokenize(text: string): string[] {
    const prefixed = this.legacy ? text : SPACE_SYMBOL + text.replaceAll(SPACE_SYMBOL, ' ');
    const pieces: string[] = [];
    for (const chunk of this.splitOnSpecial(prefixed)) {
      if (chunk.special) pieces.push(chunk.text);
      else pieces.push(...this.tokenizeChunk(chunk.text));
    }
    return pieces;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const ids = this.tokenize(text).map((p) => this.sp.pieceToId(p));
    if (options.addSpecialTokens === false) return ids;
    return [
      ...(this.addBosToken ? [this.bosTokenId] : []),
      ...ids,
      ...(this.addEosToken ? [this.eosTokenId] : []),
    ];
  }

  /** `tokenizer.decode(ids, skip_special_tokens=...)` with transformers 4.31's LLaMA rules. */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const kept = options.skipSpecialTokens ? ids.filter((id) => !this.specialIds.has(id)) : ids;
    let out = '';
    let run: number[] = [];
    let prevSpecial = false;
    kept.forEach((id, i) => {
      if (!this.specialIds.has(id)) {
        run.push(id);
        prevSpecial = false;
        return;
      }
      // A space goes before a special token that follows ordinary text (convert_tokens_to_string).
      if (!prevSpecial && i !== 0) out += ' ';
      out += this.sp.decode(run) + this.sp.idToPiece(id);
      run = [];
      prevSpecial = true;
    });
    return out + this.sp.decode(run);
  }

  idToPiece(id: number): string {
    return this.sp.idToPiece(id);
  }

  isByteToken(id: number): boolean {
    return this.sp.isByte(id);
  }

  /** One non-special chunk (`LlamaTokenizer._tokenize`). */
  private tokenizeChunk(text: string): string[] {
    if (this.legacy) return this.sp.encodePieces(text);
    const isFirst = text.startsWith(SPACE_SYMBOL);
    const body = isFirst ? text.slice(SPACE_SYMBOL.length) : text;
    const pieces = this.sp.encodePieces(body);
    // A chunk after a special token gets no dummy-prefix space unless it really starts with one.
    if (!isFirst && !body.startsWith(' ') && pieces[0]?.startsWith(SPACE_SYMBOL)) {
      const first = pieces[0].slice(SPACE_SYMBOL.length);
      return first.length > 0 ? [first, ...pieces.slice(1)] : pieces.slice(1);
    }
    return pieces;
  }

  /** Split on special-token literals (earliest match, longest at a position); empty chunks dropped. */
  private splitOnSpecial(text: string): { text: string; special: boolean }[] {
    const chunks: { text: string; special: boolean }[] = [];
    let start = 0;
    let at = 0;
    while (at < text.length) {
      const literal = this.specialLiterals.find((s) => text.startsWith(s, at));
      if (!literal) {
        at += 1;
        continue;
      }
      if (at > start) chunks.push({ text: text.slice(start, at), special: false });
      chunks.push({ text: literal, special: true });
      at += literal.length;
      start = at;
    }
    if (text.length > start) chunks.push({ text: text.slice(start), special: false });
    return chunks;
  }
}

function readTokenizerConfig(dir: string): LlamaTokenizerOptions {
  const path = join(dir, TOKENIZER_CONFIG_FILE);
  if (!existsSync(path)) return {};
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw inputError('tokenizer.bad_config', `invalid JSON (${(e as Error).message})`, {
      file: path,
      cause: e,
    });
  }
  const bool = (key: string): boolean | undefined => {
    const v = raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean')
      throw inputError('tokenizer.bad_config', 'not a boolean', { file: path, field: key });
    return v;
  };
  const out: LlamaTokenizerOptions = {};
  const legacy = bool('legacy');
  const addBos = bool('add_bos_token');
  const addEos = bool('add_eos_token');
  if (legacy !== undefined) out.legacy = legacy;
  if (addBos !== undefined) out.addBosToken = addBos;
  if (addEos !== undefined) out.addEosToken = addEos;
  return out;
}
