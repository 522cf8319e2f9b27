import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LlamaTokenizer } from '../../src/tokenizer/index.js';
import { DATA, FIXTURES } from '../helpers.js';

interface GoldenString {
  text: string;
  input_ids: number[];
  input_ids_legacy_true: number[];
  pieces: string[];
  decode_skip_special: string;
  decode_keep_special: string;
  raw_sentencepiece_bos_plus_encode: number[];
  raw_sentencepiece_decode: string;
}
interface GoldenDecode {
  ids: number[];
  decode_skip_special: string;
  decode_keep_special: string;
  raw_sentencepiece_decode: string;
}

const GOLDEN_DIR = join(FIXTURES, 'tokenizer');
const golden = JSON.parse(readFileSync(join(GOLDEN_DIR, 'tokenizer_golden.json'), 'utf8')) as {
  tokenizer: { tokenizer_model_sha256: string; legacy: boolean };
  strings: GoldenString[];
  decode_only: GoldenDecode[];
};
// The golden's `files` path predates the oracle/ folder; its sha256 pins the file.
const MODEL = join(FIXTURES, 'oracle', 'tiny-a', 'vicuna-7b-v1.5', 'tokenizer.model');

describe('LlamaTokenizer against the slow transformers tokenizer', () => {
  const tok = LlamaTokenizer.fromFile(MODEL);
  const legacyTok = LlamaTokenizer.fromFile(MODEL, { legacy: true });

  it('uses the tokenizer.model the golden was made with', () => {
    const sha = createHash('sha256').update(readFileSync(MODEL)).digest('hex');
    expect(sha).toBe(golden.tokenizer.tokenizer_model_sha256);
  });

  it('reads legacy=false from the shipped tokenizer_config.json, as the golden did', () => {
    expect(golden.tokenizer.legacy).toBe(false);
    expect(tok.legacy).toBe(false);
    expect(tok.vocabSize).toBe(32000);
  });

  it.each(golden.strings.map((s) => [JSON.stringify(s.text), s] as const))('encodes %s', (_, s) => {
    expect(tok.encode(s.text)).toEqual(s.input_ids);
    expect(['<s>', ...tok.tokenize(s.text)]).toEqual(s.pieces);
    expect(legacyTok.encode(s.text)).toEqual(s.input_ids_legacy_true);
    expect([1, ...tok.sp.encode(s.text)]).toEqual(s.raw_sentencepiece_bos_plus_encode);
  });

  it.each(golden.strings.map((s) => [JSON.stringify(s.text), s] as const))(
    'decodes the ids of %s',
    (_, s) => {
      expect(tok.decode(s.input_ids, { skipSpecialTokens: true })).toBe(s.decode_skip_special);
      expect(tok.decode(s.input_ids)).toBe(s.decode_keep_special);
      expect(tok.sp.decode(s.raw_sentencepiece_bos_plus_encode)).toBe(s.raw_sentencepiece_decode);
    },
  );

  it.each(golden.decode_only.map((d) => [JSON.stringify(d.ids), d] as const))('decodes %s', (_, d) => {
    expect(tok.decode(d.ids, { skipSpecialTokens: true })).toBe(d.decode_skip_special);
    expect(tok.decode(d.ids)).toBe(d.decode_keep_special);
    expect(tok.sp.decode(d.ids)).toBe(d.raw_sentencepiece_decode);
  });
});

describe('LlamaTokenizer on real report text', () => {
  const tok = LlamaTokenizer.fromFile(MODEL);
  const reports = readFileSync(join(DATA, 'iu-xray', 'reports.dev.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, string | null>);

  it('decodes what it encodes, for every indication and findings text of the IU X-ray dev reports', () => {
    let texts = 0;
    for (const r of reports) {
      for (const text of [r.indication, r.findings]) {
        if (!text) continue;
        const ids = tok.encode(text);
        expect(ids[0]).toBe(tok.bosTokenId);
        expect(ids.slice(1)).not.toContain(tok.unkTokenId);
        expect(tok.decode(ids, { skipSpecialTokens: true }), text).toBe(text);
        texts++;
      }
    }
    expect(texts).toBeGreaterThan(2000);
  });
});
