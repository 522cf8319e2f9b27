import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROMPT, postprocessFindings } from '../../src/llava/prompt.js';
import { seededRandom } from '../../src/llava/sampling.js';
import { FindingsStream, StreamDecoder } from '../../src/llava/stream.js';
import { LlamaTokenizer } from '../../src/tokenizer/index.js';
import { BASE_DIR } from './tiny-a-cases.js';

const tokenizer = LlamaTokenizer.fromFile(join(BASE_DIR, 'tokenizer.model'));

// Pieces that stress the decoder: bytes of multi-byte characters, lone continuation bytes, specials,
// a bare "▁", words with and without a leading space, "<0x0A>".
// Byte piece ids are the byte + 3: F0 9F AB 81 is 🫁, E8 82 BA is 肺, 0x96 alone is invalid.
const POOL = [243, 162, 174, 132, 235, 133, 189, 153, 0, 1, 2, 29871, 450, 301, 3085, 13, 29889, 259, 4150];

describe('StreamDecoder', () => {
  it('adds up to the full decode for random token sequences', () => {
    const random = seededRandom(2024);
    for (let trial = 0; trial < 2000; trial++) {
      const ids = Array.from(
        { length: 1 + Math.floor(random() * 12) },
        () => POOL[Math.floor(random() * POOL.length)]!,
      );
      const stream = new StreamDecoder(tokenizer);
      let text = '';
      for (const id of ids) text += stream.push(id);
      text += stream.finish();
      expect(text, JSON.stringify(ids)).toBe(tokenizer.decode(ids, { skipSpecialTokens: true }));
      expect(stream.text).toBe(text);
    }
  });

  it('never hands out U+FFFD for a character still being completed', () => {
    const stream = new StreamDecoder(tokenizer);
    const out = [29871, 235, 133, 189, 450].map((id) => stream.push(id));
    expect(out).toEqual(['', '', '', '肺', ' The']);
  });
});

describe('FindingsStream', () => {
  const run = (deltas: string[]) => {
    const printer = new FindingsStream(PROMPT.stopString);
    const printed = deltas.map((d) => printer.push(d));
    const findings = postprocessFindings(deltas.join(''));
    return { printed, all: printed.join('') + printer.end(findings), findings };
  };

  it('prints what post-processing keeps, holding back what it may drop', () => {
    const r = run([' ', ' The', ' lungs', ' ', '</', 's', '>', ' ']);
    expect(r.printed).toEqual(['', 'The', ' lungs', '', '', '', '', '']);
    expect(r.all).toBe('The lungs');
  });

  it('releases held text once more text follows', () => {
    const r = run(['a', ' </s>', ' b']);
    expect(r.printed).toEqual(['a', '', ' </s> b']);
    expect(r.all).toBe(r.findings);
  });

  it('always prints a prefix of the final findings', () => {
    const random = seededRandom(7);
    const parts = [' ', '\n', 'x', '<', '/', 's', '>', '</s>', 'y '];
    for (let trial = 0; trial < 300; trial++) {
      const deltas = Array.from(
        { length: Math.floor(random() * 10) },
        () => parts[Math.floor(random() * parts.length)]!,
      );
      const r = run(deltas);
      expect(r.all, JSON.stringify(deltas)).toBe(r.findings);
    }
  });
});
