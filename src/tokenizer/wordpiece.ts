/**
 * WordPiece tokenisation of bert-base-uncased exactly as the official text path runs it: transformers 4.31's slow
 * `BertTokenizer.tokenize` (special-token literals split out first, the rest lower-cased character by character,
 * then BasicTokenizer and greedy longest-match WordPiece), and CheXbert's report preparation and truncation.
 */
import { readFileSync } from 'node:fs';
import { inputError } from '../errors.js';
import {
  isBertControl,
  isBertPunctuation,
  isBertWhitespace,
  isCjkIdeograph,
  isNonspacingMark,
  isPythonWhitespace,
  isUnassignedInUnicode14,
} from './wordpiece-unicode.js';

export const BERT_SPECIAL_TOKENS = {
  pad: '[PAD]',
  unk: '[UNK]',
  cls: '[CLS]',
  sep: '[SEP]',
  mask: '[MASK]',
} as const;

/** BERT's `max_input_chars_per_word`: longer whitespace words become a single [UNK]. */
export const MAX_INPUT_CHARS_PER_WORD = 100;
/** CheXbert's length limit, [CLS] and [SEP] included. */
export const CHEXBERT_MAX_IDS = 512;
const CONTINUATION = '##';

export interface WordPieceOptions {
  /** Where the vocabulary came from, for error messages. */
  origin?: string;
}

export class WordPieceTokenizer {
  readonly vocab: ReadonlyMap<string, number>;
  readonly idToToken: readonly string[];
  readonly padId: number;
  readonly unkId: number;
  readonly clsId: number;
  readonly sepId: number;
  private readonly specials: readonly string[];
  /** Longest vocabulary entry in code points (without `##`): bounds the greedy match. */
  private readonly maxPieceChars: number;

  /** `tokens[i]` is the piece with id i (the lines of vocab.txt). */
  constructor(tokens: readonly string[], options: WordPieceOptions = {}) {
    const vocab = new Map<string, number>();
    // Python's load_vocab assigns ids by line; a repeated line keeps the later id.
    for (const [i, t] of tokens.entries()) vocab.set(t, i);
    this.vocab = vocab;
    this.idToToken = tokens;
    const id = (t: string) => {
      const v = vocab.get(t);
      if (v === undefined)
        throw inputError('tokenizer.vocab_missing_special', `vocabulary lacks ${t}`, {
          file: options.origin,
          expected: `a line ${t}`,
        });
      return v;
    };
    this.padId = id(BERT_SPECIAL_TOKENS.pad);
    this.unkId = id(BERT_SPECIAL_TOKENS.unk);
    this.clsId = id(BERT_SPECIAL_TOKENS.cls);
    this.sepId = id(BERT_SPECIAL_TOKENS.sep);
    id(BERT_SPECIAL_TOKENS.mask);
    this.specials = Object.values(BERT_SPECIAL_TOKENS);
    let longest = 0;
    for (const t of tokens) {
      const body = t.startsWith(CONTINUATION) ? t.slice(CONTINUATION.length) : t;
      longest = Math.max(longest, [...body].length);
    }
    this.maxPieceChars = longest;
  }

  /** Read a vocab.txt (one piece per line, UTF-8) as Python's text-mode readlines sees it. */
  static fromVocabFile(path: string): WordPieceTokenizer {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw inputError('tokenizer.vocab_unreadable', 'cannot read the WordPiece vocabulary', {
        file: path,
        cause: e,
      });
    }
    return WordPieceTokenizer.fromVocabText(text, path);
  }

  static fromVocabText(text: string, origin = '<vocab>'): WordPieceTokenizer {
    // Universal newlines: \r\n and \r end a line too.
    const lines = text.replace(/\r\n?/g, '\n').split('\n');
    if (lines.at(-1) === '') lines.pop();
    if (lines.length === 0) throw inputError('tokenizer.vocab_empty', 'empty vocabulary', { file: origin });
    return new WordPieceTokenizer(lines, { origin });
  }

  /** `BertTokenizer.tokenize(text)`: the WordPiece pieces, special-token literals kept whole. */
  tokenize(text: string): string[] {
    const out: string[] = [];
    for (const chunk of this.splitSpecials(lowercaseOutsideSpecials(text, this.specials))) {
      if (chunk.special) out.push(chunk.text);
      else for (const word of basicTokenize(chunk.text)) out.push(...this.wordPiece(word));
    }
    return out;
  }

  convertTokensToIds(pieces: readonly string[]): number[] {
    return pieces.map((p) => this.vocab.get(p) ?? this.unkId);
  }

  /**
   * CheXbert's ids for one report (UnlabeledDataset): prepare the text, tokenise, wrap in [CLS] ... [SEP];
   * past 512 ids keep the first 511 and end with [SEP]; an empty piece list gives [CLS, SEP].
   */
  encodeReport(text: string): number[] {
    const pieces = this.tokenize(prepareReport(text));
    const ids = [this.clsId, ...this.convertTokensToIds(pieces), this.sepId];
    if (ids.length <= CHEXBERT_MAX_IDS) return ids;
    // The cut may fall inside a word: the reference does no repair either.
    return [...ids.slice(0, CHEXBERT_MAX_IDS - 1), this.sepId];
  }

  /**
   * The trie split of `PreTrainedTokenizer.tokenize`: special literals (exact case) become their own chunks and
   * the text around them loses its adjacent whitespace (the reference strips left and right by default).
   */
  private splitSpecials(text: string): Array<{ text: string; special: boolean }> {
    const chunks: Array<{ text: string; special: boolean }> = [];
    let rest = text;
    for (;;) {
      const hit = firstSpecial(rest, this.specials);
      if (!hit) break;
      chunks.push({ text: rest.slice(0, hit.index), special: false }, { text: hit.token, special: true });
      rest = rest.slice(hit.index + hit.token.length);
    }
    chunks.push({ text: rest, special: false });
    return chunks.map((c, i) => {
      if (c.special) return c;
      let t = c.text;
      if (chunks[i - 1]?.special) t = pythonLstrip(t);
      if (chunks[i + 1]?.special) t = pythonRstrip(t);
      return { text: t, special: false };
    });
  }

  /** Greedy longest-match-first WordPiece of one word; an unmatched remainder makes the whole word [UNK]. */
  private wordPiece(word: string): string[] {
    const chars = [...word];
    if (chars.length > MAX_INPUT_CHARS_PER_WORD) return [BERT_SPECIAL_TOKENS.unk];
    const pieces: string[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = Math.min(chars.length, start + this.maxPieceChars);
      let found: string | undefined;
      for (; end > start; end--) {
        const body = chars.slice(start, end).join('');
        const candidate = start > 0 ? CONTINUATION + body : body;
        if (this.vocab.has(candidate)) {
          found = candidate;
          break;
        }
      }
      if (found === undefined) return [BERT_SPECIAL_TOKENS.unk];
      pieces.push(found);
      start = end;
    }
    return pieces;
  }
}

/**
 * CheXbert's report preparation: `str.strip()`, newlines to spaces, every run of Python whitespace to one space
 * (Python's whitespace: \x1c-\x1f and \x85 count, \ufeff does not, unlike JavaScript's \s), stripped again.
 */
export function prepareReport(text: string): string {
  let out = '';
  let pendingSpace = false;
  for (const ch of text) {
    if (isPythonWhitespace(ch)) {
      pendingSpace = out.length > 0;
      continue;
    }
    if (pendingSpace) out += ' ';
    pendingSpace = false;
    out += ch;
  }
  return out;
}

/** The per-character `lower()` of `PreTrainedTokenizer.tokenize`: no Greek final sigma, newlines untouched. */
function lowercaseOutsideSpecials(text: string, specials: readonly string[]): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const special = specials.find((s) => text.startsWith(s, i));
    if (special) {
      out += special;
      i += special.length;
      continue;
    }
    const ch = String.fromCodePoint(text.codePointAt(i)!);
    out += ch === '\n' || isUnassignedInUnicode14(ch) ? ch : ch.toLowerCase();
    i += ch.length;
  }
  return out;
}

function firstSpecial(
  text: string,
  specials: readonly string[],
): { index: number; token: string } | undefined {
  let best: { index: number; token: string } | undefined;
  for (const token of specials) {
    const index = text.indexOf(token);
    if (index >= 0 && (!best || index < best.index)) best = { index, token };
  }
  return best;
}

/**
 * BasicTokenizer.tokenize on text without special literals: clean (drop NUL, U+FFFD and controls; whitespace to
 * space), space out CJK ideographs, NFC, split on Python whitespace, lower-case, strip accents (NFD, drop Mn),
 * split off punctuation.
 */
export function basicTokenize(text: string): string[] {
  let cleaned = '';
  for (const ch of text) {
    if (ch === '\u0000' || ch === '\ufffd' || isBertControl(ch)) continue;
    if (isBertWhitespace(ch)) cleaned += ' ';
    else if (isCjkIdeograph(ch)) cleaned += ` ${ch} `;
    else cleaned += ch;
  }
  const words: string[] = [];
  for (const token of pythonSplit(cleaned.normalize('NFC'))) {
    const folded = stripAccents(token.toLowerCase());
    for (const part of splitOnPunctuation(folded)) words.push(...pythonSplit(part));
  }
  return words;
}

function stripAccents(text: string): string {
  let out = '';
  for (const ch of text.normalize('NFD')) if (!isNonspacingMark(ch)) out += ch;
  return out;
}

function splitOnPunctuation(word: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (const ch of word) {
    if (isBertPunctuation(ch)) {
      if (current) parts.push(current);
      parts.push(ch);
      current = '';
    } else current += ch;
  }
  if (current) parts.push(current);
  return parts;
}

/** Python's `str.split()` with no argument: runs of Python whitespace separate, no empty strings. */
export function pythonSplit(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const ch of text) {
    if (isPythonWhitespace(ch)) {
      if (current) out.push(current);
      current = '';
    } else current += ch;
  }
  if (current) out.push(current);
  return out;
}

function pythonLstrip(text: string): string {
  const chars = [...text];
  let i = 0;
  while (i < chars.length && isPythonWhitespace(chars[i]!)) i++;
  return chars.slice(i).join('');
}

function pythonRstrip(text: string): string {
  const chars = [...text];
  let j = chars.length;
  while (j > 0 && isPythonWhitespace(chars[j - 1]!)) j--;
  return chars.slice(0, j).join('');
}
