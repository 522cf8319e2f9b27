/**
 * SentencePiece BPE with byte fallback, as `sentencepiece.SentencePieceProcessor` encodes and decodes:
 * identity normalisation (dummy-prefix space, spaces escaped to U+2581), then pairwise merges of adjacent
 * symbols in order of the merged piece's score (ties go to the leftmost pair), characters outside the
 * vocabulary spelled as `<0xNN>` byte pieces. Decoding mirrors `SentencePieceProcessor::Decode`.
 */
import { inputError } from '../errors.js';
import { ModelType, PieceType, type SentencePieceModel } from './sentencepiece-model.js';

/** The whitespace marker of SentencePiece pieces ("▁", U+2581). */
export const SPACE_SYMBOL = '\u2581';
const REPLACEMENT_CHARACTER = '\ufffd';
const BYTE_PIECE = /^<0x([0-9A-F]{2})>$/;

/** A candidate merge of the adjacent symbols `left` and its current right neighbour. */
interface Pair {
  left: number;
  right: number;
  score: number;
  /** Length of the merged piece; a pair whose symbols changed since it was queued no longer matches. */
  size: number;
}

/** Max-heap on score, then leftmost position (SentencePiece's agenda order). */
class PairQueue {
  private readonly items: Pair[] = [];

  get size(): number {
    return this.items.length;
  }

  push(p: Pair): void {
    const a = this.items;
    a.push(p);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): Pair {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < a.length && before(a[l]!, a[best]!)) best = l;
        if (r < a.length && before(a[r]!, a[best]!)) best = r;
        if (best === i) break;
        [a[i], a[best]] = [a[best]!, a[i]!];
        i = best;
      }
    }
    return top;
  }
}

function before(a: Pair, b: Pair): boolean {
  return a.score > b.score || (a.score === b.score && a.left < b.left);
}

/** Length in bytes of the valid UTF-8 character at `bytes[at]`, or 0 when it is not one. */
function utf8CharLength(bytes: Uint8Array, at: number): number {
  const b0 = bytes[at]!;
  if (b0 < 0x80) return 1;
  const len = b0 >= 0xc2 && b0 <= 0xdf ? 2 : b0 >= 0xe0 && b0 <= 0xef ? 3 : b0 >= 0xf0 && b0 <= 0xf4 ? 4 : 0;
  if (len === 0 || at + len > bytes.length) return 0;
  let cp = b0 & (0xff >> (len + 1));
  for (let k = 1; k < len; k++) {
    const b = bytes[at + k]!;
    if ((b & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  const minimum = len === 3 ? 0x800 : len === 4 ? 0x10000 : 0x80;
  const surrogate = cp >= 0xd800 && cp <= 0xdfff;
  return cp < minimum || surrogate || cp > 0x10ffff ? 0 : len;
}

const utf8 = new TextDecoder('utf-8');

/**
 * Bytes to text as SentencePiece does: every byte that does not start a complete, valid UTF-8 character
 * becomes one U+FFFD (a browser TextDecoder would fold a truncated sequence into a single U+FFFD).
 */
export function decodeUtf8Bytes(bytes: Uint8Array): string {
  let out = '';
  let at = 0;
  while (at < bytes.length) {
    const len = utf8CharLength(bytes, at);
    if (len === 0) {
      out += REPLACEMENT_CHARACTER;
      at += 1;
    } else {
      out += utf8.decode(bytes.subarray(at, at + len));
      at += len;
    }
  }
  return out;
}

export class SentencePieceBpe {
  readonly model: SentencePieceModel;
  /** Pieces that take part in merges (normal, user-defined, unused), by text. */
  private readonly mergeable = new Map<string, number>();
  /** Every piece by text, for `pieceToId` (control and byte pieces included). */
  private readonly allPieces = new Map<string, number>();
  private readonly byteIds: number[] = new Array(256).fill(-1);
  private readonly byteOfId = new Map<number, number>();
  private readonly userDefined: string[];

  constructor(model: SentencePieceModel, file = '<tokenizer model>') {
    this.model = model;
    const unsupported = (what: string) => inputError('tokenizer.unsupported_model', what, { file });
    if (model.modelType !== ModelType.Bpe)
      throw unsupported(`only BPE SentencePiece models are supported (model_type ${model.modelType})`);
    if (model.normalizer.precompiledCharsmapBytes > 0)
      throw unsupported(`only the identity normaliser is supported (found '${model.normalizer.name}')`);
    if (model.treatWhitespaceAsSuffix) throw unsupported('treat_whitespace_as_suffix is not supported');
    model.pieces.forEach((p, id) => {
      this.allPieces.set(p.piece, id);
      const byte = p.type === PieceType.Byte ? BYTE_PIECE.exec(p.piece) : null;
      if (byte) {
        this.byteIds[Number.parseInt(byte[1]!, 16)] = id;
        this.byteOfId.set(id, Number.parseInt(byte[1]!, 16));
      }
      if (p.type === PieceType.Normal || p.type === PieceType.UserDefined || p.type === PieceType.Unused)
        this.mergeable.set(p.piece, id);
    });
    // Longest first, so the initial split takes the longest user-defined symbol at a position.
    this.userDefined = model.pieces
      .filter((p) => p.type === PieceType.UserDefined)
      .map((p) => p.piece)
      .sort((a, b) => b.length - a.length);
    if (model.byteFallback && this.byteIds.includes(-1))
      throw unsupported('byte_fallback is set but the model lacks some <0xNN> pieces');
  }

  get vocabSize(): number {
    return this.model.pieces.length;
  }

  pieceToId(piece: string): number {
    return this.allPieces.get(piece) ?? this.model.unkId;
  }

  idToPiece(id: number): string {
    const p = this.model.pieces[id];
    if (!p)
      throw inputError('tokenizer.bad_id', `token id ${id} is outside the vocabulary`, { found: String(id) });
    return p.piece;
  }

  isControl(id: number): boolean {
    return this.model.pieces[id]?.type === PieceType.Control;
  }

  isUnknown(id: number): boolean {
    return this.model.pieces[id]?.type === PieceType.Unknown;
  }

  isByte(id: number): boolean {
    return this.byteOfId.has(id);
  }

  /** The byte a `<0xNN>` piece stands for, or undefined. */
  byteOf(id: number): number | undefined {
    return this.byteOfId.get(id);
  }

  /** SentencePiece's identity normaliser: optional whitespace cleanup, dummy prefix, escaped spaces. */
  normalize(text: string): string {
    const n = this.model.normalizer;
    let t = text;
    if (n.removeExtraWhitespaces) t = t.replace(/ +/g, ' ').replace(/^ | $/g, '');
    if (t.length === 0) return '';
    if (n.addDummyPrefix) t = ` ${t}`;
    return n.escapeWhitespaces ? t.replaceAll(' ', SPACE_SYMBOL) : t;
  }

  /** `SentencePieceProcessor.encode(text, out_type=str)`. */
  encodePieces(text: string): string[] {
    // Unused pieces can be formed by merges but are split back into the parts they were made of.
    const unusedSplit = new Map<string, [string, string]>();
    const symbols = this.mergeSymbols(this.initialSymbols(this.normalize(text)), unusedSplit);
    const out: string[] = [];
    for (const s of symbols) this.resegment(s, unusedSplit, out);
    if (!this.model.byteFallback) return out;
    return out.flatMap((p) => (this.allPieces.has(p) ? [p] : this.bytePieces(p)));
  }

  /** `SentencePieceProcessor.encode(text)` (ids). */
  encode(text: string): number[] {
    return this.encodePieces(text).map((p) => this.pieceToId(p));
  }

  /** Characters, except that user-defined symbols stay whole. */
  private initialSymbols(normalized: string): string[] {
    const chars = Array.from(normalized);
    if (this.userDefined.length === 0) return chars;
    const symbols: string[] = [];
    let at = 0;
    while (at < normalized.length) {
      const user = this.userDefined.find((u) => normalized.startsWith(u, at));
      const symbol = user ?? String.fromCodePoint(normalized.codePointAt(at)!);
      symbols.push(symbol);
      at += symbol.length;
    }
    return symbols;
  }

  private mergeSymbols(initial: string[], unusedSplit: Map<string, [string, string]>): string[] {
    const piece = initial.slice();
    const frozen = initial.map((s) => s.length > 1 && this.userDefined.includes(s));
    const prev = initial.map((_, i) => i - 1);
    const next = initial.map((_, i) => (i + 1 < initial.length ? i + 1 : -1));
    const queue = new PairQueue();
    const consider = (left: number, right: number) => {
      if (left < 0 || right < 0 || frozen[left] || frozen[right]) return;
      const merged = piece[left]! + piece[right]!;
      const id = this.mergeable.get(merged);
      if (id === undefined) return;
      queue.push({ left, right, score: this.model.pieces[id]!.score, size: merged.length });
      if (this.model.pieces[id]!.type === PieceType.Unused)
        unusedSplit.set(merged, [piece[left]!, piece[right]!]);
    };
    for (let i = 1; i < initial.length; i++) consider(i - 1, i);
    while (queue.size > 0) {
      const top = queue.pop();
      const l = piece[top.left]!;
      const r = piece[top.right]!;
      // Stale: one side was merged away or grew since this pair was queued.
      if (l === '' || r === '' || l.length + r.length !== top.size || next[top.left] !== top.right) continue;
      piece[top.left] = l + r;
      piece[top.right] = '';
      next[top.left] = next[top.right]!;
      if (next[top.right]! >= 0) prev[next[top.right]!] = top.left;
      consider(prev[top.left]!, top.left);
      consider(top.left, next[top.left]!);
    }
    return piece.filter((p) => p !== '');
  }

  private resegment(piece: string, unusedSplit: Map<string, [string, string]>, out: string[]): void {
    const id = this.mergeable.get(piece);
    const split = unusedSplit.get(piece);
    if (id === undefined || this.model.pieces[id]!.type !== PieceType.Unused || !split) {
      out.push(piece);
      return;
    }
    this.resegment(split[0], unusedSplit, out);
    this.resegment(split[1], unusedSplit, out);
  }

  private bytePieces(symbol: string): string[] {
    return Array.from(new TextEncoder().encode(symbol), (b) => this.model.pieces[this.byteIds[b]!]!.piece);
  }

  /**
   * `SentencePieceProcessor.decode(ids)`: control pieces vanish, `<unk>` prints its surface, runs of byte
   * pieces are joined and read as UTF-8, and the leading space of the first visible piece (the dummy prefix)
   * is dropped.
   */
  decode(ids: readonly number[]): string {
    let text = '';
    let bytes: number[] = [];
    let expectPrefix = true;
    let prefixSeen = false;
    const flush = () => {
      if (bytes.length > 0) text += decodeUtf8Bytes(Uint8Array.from(bytes));
      bytes = [];
    };
    for (const id of ids) {
      const byte = this.byteOfId.get(id);
      if (byte !== undefined) {
        bytes.push(byte);
        continue;
      }
      flush();
      if (prefixSeen || text.length > 0) expectPrefix = false;
      const [surface, consumed] = this.decodePiece(id, expectPrefix);
      prefixSeen = consumed;
      text += surface;
    }
    flush();
    return text;
  }

  private decodePiece(id: number, expectPrefix: boolean): [string, boolean] {
    if (this.isControl(id)) return ['', false];
    if (this.isUnknown(id)) return [this.model.unkSurface, false];
    let piece = this.idToPiece(id);
    let consumed = false;
    const n = this.model.normalizer;
    if (expectPrefix && (n.addDummyPrefix || n.removeExtraWhitespaces) && piece.startsWith(SPACE_SYMBOL)) {
      piece = piece.slice(SPACE_SYMBOL.length);
      // With whitespace cleanup every leading space is dropped, not just the dummy one.
      consumed = !n.removeExtraWhitespaces;
    }
    return [piece.replaceAll(SPACE_SYMBOL, ' '), consumed];
  }
}
