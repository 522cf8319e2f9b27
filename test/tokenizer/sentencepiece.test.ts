import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeUtf8Bytes,
  emptyModel,
  LlamaTokenizer,
  ModelType,
  PieceType,
  parseSentencePieceModel,
  SentencePieceBpe,
  type SentencePieceModel,
} from '../../src/tokenizer/index.js';

/** A hand-made BPE model: [piece, score, type?] rows. */
function model(rows: [string, number, PieceType?][], byteFallback = false): SentencePieceModel {
  const m = emptyModel();
  return {
    ...m,
    pieces: rows.map(([piece, score, type]) => ({ piece, score, type: type ?? PieceType.Normal })),
    modelType: ModelType.Bpe,
    byteFallback,
    normalizer: { ...m.normalizer, name: 'identity', removeExtraWhitespaces: false },
  };
}

const BASE: [string, number, PieceType?][] = [
  ['<unk>', 0, PieceType.Unknown],
  ['<s>', 0, PieceType.Control],
  ['</s>', 0, PieceType.Control],
];

describe('SentencePiece BPE', () => {
  it('merges the highest-scoring pair first', () => {
    const sp = new SentencePieceBpe(
      model([...BASE, ['▁', -10], ['a', -10], ['b', -10], ['c', -10], ['ab', -2], ['bc', -1], ['▁a', -3]]),
    );
    // "bc" (-1) beats "ab" (-2) and "▁a" (-3); then "▁a" merges.
    expect(sp.encodePieces('abc')).toEqual(['▁a', 'bc']);
  });

  it('breaks score ties towards the leftmost pair', () => {
    const sp = new SentencePieceBpe(model([...BASE, ['▁', -10], ['a', -10], ['aa', -1]]));
    expect(sp.encodePieces('aaa')).toEqual(['▁', 'aa', 'a']);
  });

  it('splits unused pieces back into the pieces they were merged from', () => {
    const sp = new SentencePieceBpe(
      model([...BASE, ['▁', -10], ['x', -10], ['y', -10], ['xy', -1, PieceType.Unused], ['▁x', -5]]),
    );
    expect(sp.encodePieces('xy')).toEqual(['▁', 'x', 'y']);
  });

  it('keeps user-defined symbols whole and never merges across them', () => {
    const sp = new SentencePieceBpe(
      model([...BASE, ['▁', -10], ['a', -10], ['<R>', 0, PieceType.UserDefined], ['a<R>', -1], ['▁a', -2]]),
    );
    expect(sp.encodePieces('a<R>a')).toEqual(['▁a', '<R>', 'a']);
  });

  it('maps unknown characters to <unk> without byte fallback and to byte pieces with it', () => {
    const bytes: [string, number, PieceType][] = Array.from({ length: 256 }, (_, b) => [
      `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`,
      0,
      PieceType.Byte,
    ]);
    const rows: [string, number, PieceType?][] = [...BASE, ['▁', -10], ['a', -10]];
    expect(new SentencePieceBpe(model(rows)).encode('aé')).toEqual([3, 4, 0]);
    const withBytes = new SentencePieceBpe(model([...rows, ...bytes], true));
    expect(withBytes.encodePieces('aé')).toEqual(['▁', 'a', '<0xC3>', '<0xA9>']);
    expect(withBytes.decode(withBytes.encode('aé'))).toBe('aé');
  });

  it('refuses models it cannot reproduce', () => {
    expect(() => new SentencePieceBpe({ ...model(BASE), modelType: ModelType.Unigram })).toThrow(/only BPE/);
  });

  it('decodes bytes as SentencePiece does: one U+FFFD per byte that starts no valid character', () => {
    expect(decodeUtf8Bytes(Uint8Array.of(0xf0, 0x9f, 0xab))).toBe('\ufffd\ufffd\ufffd');
    expect(decodeUtf8Bytes(Uint8Array.of(0xf0, 0x9f, 0xab, 0x81, 0x41))).toBe('🫁A');
    expect(decodeUtf8Bytes(Uint8Array.of(0xc0, 0xaf))).toBe('\ufffd\ufffd'); // overlong
    expect(decodeUtf8Bytes(Uint8Array.of(0xed, 0xa0, 0x80))).toBe('\ufffd\ufffd\ufffd'); // surrogate
  });
});

describe('reading tokenizer.model', () => {
  it('names the file when it is not a SentencePiece model', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cxr-sp-'));
    const path = join(dir, 'tokenizer.model');
    writeFileSync(path, 'this is not a protobuf');
    expect(() => LlamaTokenizer.fromFile(path)).toThrow(path);
    expect(() => LlamaTokenizer.fromFile(join(dir, 'missing.model'))).toThrow(/missing\.model/);
    expect(() => parseSentencePieceModel(new Uint8Array())).toThrow(/no pieces/);
  });
});
