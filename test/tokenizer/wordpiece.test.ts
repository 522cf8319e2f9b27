import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  basicTokenize,
  CHEXBERT_MAX_IDS,
  prepareReport,
  pythonSplit,
  WordPieceTokenizer,
} from '../../src/tokenizer/wordpiece.js';
import { FIXTURES } from '../helpers.js';

const DIR = join(FIXTURES, 'oracle', 'chexbert-tiny');

interface GoldenString {
  id: string;
  text: string;
  prepped: string;
  pieces: string[];
  input_ids: number[];
  truncated: boolean;
}

const golden = JSON.parse(readFileSync(join(DIR, 'tokenizer_golden.json'), 'utf8')) as {
  strings: GoldenString[];
};
const tokenizer = WordPieceTokenizer.fromVocabFile(join(DIR, 'vocab.txt'));

describe('WordPiece (bert-base-uncased, official CheXbert text path)', () => {
  it('has the 70 golden strings and the real vocabulary', () => {
    expect(golden.strings).toHaveLength(70);
    expect(tokenizer.idToToken).toHaveLength(30522);
    expect([tokenizer.padId, tokenizer.unkId, tokenizer.clsId, tokenizer.sepId]).toEqual([0, 100, 101, 102]);
  });

  describe.each(golden.strings.map((s) => [s.id, s] as const))('%s', (_id, s) => {
    it('prepares the text as Python does', () => {
      expect(prepareReport(s.text)).toBe(s.prepped);
    });
    it('gives the reference pieces', () => {
      expect(tokenizer.tokenize(s.prepped)).toEqual(s.pieces);
    });
    it('gives the reference ids', () => {
      expect(tokenizer.encodeReport(s.text)).toEqual(s.input_ids);
    });
  });

  it('truncates to 511 ids + [SEP] only past 512 ids', () => {
    const truncated = golden.strings.filter((s) => s.truncated);
    expect(truncated.length).toBeGreaterThan(0);
    for (const s of golden.strings) {
      const ids = tokenizer.encodeReport(s.text);
      expect(ids.length).toBe(Math.min(s.pieces.length + 2, CHEXBERT_MAX_IDS));
      expect(ids.at(-1)).toBe(tokenizer.sepId);
    }
  });
});

describe('WordPiece text rules', () => {
  it('splits on Python whitespace, not JavaScript whitespace', () => {
    expect(pythonSplit('a\x1cb\x85c\ufeffd\u2028e')).toEqual(['a', 'b', 'c\ufeffd', 'e']);
  });

  it('drops controls, format characters and characters unassigned in Unicode 14', () => {
    // U+1FAE8 (shaking face) arrived in Unicode 15: the reference's Python 3.11 sees it as unassigned.
    expect(basicTokenize('a\u200bb \u{1fae8} c\u0000d\ufffde')).toEqual(['ab', 'cde']);
  });

  it('lower-cases character by character, so no Greek final sigma', () => {
    expect(tokenizer.tokenize('ΟΔΟΣ')).toEqual(['ο', '##δ', '##ο', '##σ']);
  });

  it('keeps exact-case special literals and strips whitespace next to them', () => {
    expect(tokenizer.tokenize('a [SEP] b [sep]')).toEqual(['a', '[SEP]', 'b', '[', 'sep', ']']);
  });

  it('reads \\r\\n vocabularies as Python text mode does', () => {
    const t = WordPieceTokenizer.fromVocabText(
      '[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\nlung\r\n##s\r\n',
    );
    expect(t.convertTokensToIds(t.tokenize('Lungs'))).toEqual([5, 6]);
  });

  it('rejects a vocabulary without the BERT special tokens, naming the file', () => {
    expect(() => WordPieceTokenizer.fromVocabText('a\nb\n', 'v.txt')).toThrow(/v\.txt.*\[PAD\]/);
  });
});
