import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATION_DEFAULTS, generate, type TokenEvent } from '../../src/llava/generate.js';
import { sampleToken, seededRandom } from '../../src/llava/sampling.js';
import { LlamaTokenizer } from '../../src/tokenizer/index.js';
import { FIXTURES } from '../helpers.js';
import { chain, ScriptedLM } from './fake-lm.js';

const tokenizer = LlamaTokenizer.fromFile(
  join(FIXTURES, 'oracle', 'tiny-a', 'vicuna-7b-v1.5', 'tokenizer.model'),
);
const EOS = 2;
// "▁The" "▁l" "ungs" "▁are" "▁clear" "."
const LUNGS = [450, 301, 3085, 526, 2821, 29889];
const PROMPT = [1, 319, -200, 29901];

describe('greedy generation', () => {
  it('follows the argmax, stops at EOS (kept in the ids) and post-processes the text', async () => {
    const lm = new ScriptedLM(chain([...LUNGS, EOS]));
    const r = await generate(lm, tokenizer, PROMPT, { rows: new Float32Array(8), tokens: 4 });
    expect(r.tokenIds).toEqual([...LUNGS, EOS]);
    expect(r.stopReason).toBe('eos');
    expect(r.text).toBe('The lungs are clear.');
    expect(lm.steps).toBe(LUNGS.length); // the EOS is not fed back
    expect(r.timings.decodeSteps).toBe(LUNGS.length);
    expect(lm.live).toBe(0);
    expect(lm.prefills[0]!.ids).toEqual(PROMPT);
  });

  it('takes the first of equal logits', async () => {
    const lm = new ScriptedLM(
      (h): Record<number, number> => (h.length === 0 ? { 700: 5, 600: 5, 800: 4 } : { [EOS]: 9 }),
    );
    expect((await generate(lm, tokenizer, PROMPT, null)).tokenIds).toEqual([600, EOS]);
  });

  it('stops after 256 new tokens by default, and after maxNewTokens when given', async () => {
    expect(GENERATION_DEFAULTS.maxNewTokens).toBe(256);
    const endless = chain([LUNGS[0]!]);
    const r = await generate(new ScriptedLM(endless), tokenizer, PROMPT, null);
    expect(r.tokenIds).toHaveLength(256);
    expect(r.stopReason).toBe('max_new_tokens');
    const short = await generate(new ScriptedLM(endless), tokenizer, PROMPT, null, { maxNewTokens: 3 });
    expect(short.tokenIds).toHaveLength(3);
  });

  it('stops when the context is full, and refuses a prompt that does not fit', async () => {
    const lm = new ScriptedLM(chain([LUNGS[0]!]), 12, 4);
    const r = await generate(lm, tokenizer, PROMPT, { rows: new Float32Array(8), tokens: 4 });
    // 7 prompt positions; the cache holds 12, so 5 tokens are fed and a 6th is produced.
    expect(r.stopReason).toBe('context_full');
    expect(r.tokenIds).toHaveLength(6);
    const tiny = new ScriptedLM(chain([EOS]), 7, 4);
    await expect(generate(tiny, tokenizer, PROMPT, { rows: new Float32Array(8), tokens: 4 })).rejects.toThrow(
      /does not fit/,
    );
  });

  it('rejects invalid options with the option named', async () => {
    const lm = new ScriptedLM(chain([EOS]));
    await expect(generate(lm, tokenizer, PROMPT, null, { maxNewTokens: 0 })).rejects.toThrow(/maxNewTokens/);
    await expect(generate(lm, tokenizer, PROMPT, null, { topP: 0 })).rejects.toThrow(/topP/);
    // undefined means "the default", not an invalid value.
    const r = await generate(new ScriptedLM(chain([EOS])), tokenizer, PROMPT, null, {
      maxNewTokens: undefined,
    });
    expect(r.tokenIds).toEqual([EOS]);
  });
});

describe('streaming', () => {
  it('hands out text token by token that adds up to the final text', async () => {
    const events: TokenEvent[] = [];
    const lm = new ScriptedLM(chain([...LUNGS, EOS]));
    const r = await generate(lm, tokenizer, PROMPT, null, { onToken: (e) => events.push(e) });
    expect(events.map((e) => e.tokenId)).toEqual(r.tokenIds);
    expect(events.map((e) => e.text)).toEqual(['The', ' l', 'ungs', ' are', ' clear', '.', '']);
    expect(events.map((e) => e.text).join('')).toBe(r.rawText);
  });

  it('holds back a character split over byte-fallback tokens until it is complete', async () => {
    // "▁" then 🫁 as <0xF0> <0x9F> <0xAB> <0x81>, then "▁l" "ungs".
    const ids = [29871, 243, 162, 174, 132, 301, 3085, EOS];
    const events: TokenEvent[] = [];
    const r = await generate(new ScriptedLM(chain(ids)), tokenizer, PROMPT, null, {
      onToken: (e) => events.push(e),
    });
    expect(events.map((e) => e.text)).toEqual(['', '', '', '', '🫁', ' l', 'ungs', '']);
    expect(r.text).toBe('🫁 lungs');
  });

  it('flushes an unfinished byte run at the end as the full decode does', async () => {
    const ids = [450, 243, 162];
    const events: TokenEvent[] = [];
    const r = await generate(new ScriptedLM(chain(ids)), tokenizer, PROMPT, null, {
      maxNewTokens: 3,
      onToken: (e) => events.push(e),
    });
    expect(events.map((e) => e.text).join('')).toBe('The\ufffd\ufffd');
    expect(r.rawText).toBe(tokenizer.decode(ids, { skipSpecialTokens: true }));
  });
});

describe('stop strings', () => {
  it('end generation and cut the text before the stop string, never streaming it', async () => {
    // "▁The" "▁l" "ungs" "▁are" "▁clear" ... stop at " are".
    const events: TokenEvent[] = [];
    const lm = new ScriptedLM(chain([...LUNGS, EOS]));
    const r = await generate(lm, tokenizer, PROMPT, null, {
      stopStrings: [' are'],
      onToken: (e) => events.push(e),
    });
    expect(r.stopReason).toBe('stop_string');
    expect(r.tokenIds).toEqual(LUNGS.slice(0, 4));
    expect(r.rawText).toBe('The lungs');
    expect(events.map((e) => e.text).join('')).toBe('The lungs');
    expect(lm.live).toBe(0);
  });

  it('hold back text that may start a stop string until it cannot', async () => {
    const events: TokenEvent[] = [];
    await generate(new ScriptedLM(chain([...LUNGS, EOS])), tokenizer, PROMPT, null, {
      stopStrings: ['lungs were'],
      onToken: (e) => events.push(e),
    });
    // " l" might begin "lungs were" and "ungs" continues it; " are" rules it out.
    expect(events.map((e) => e.text)).toEqual(['The', ' ', '', 'lungs are', ' clear', '.', '']);
  });
});

describe('sampling', () => {
  const spread = () => ({ 450: 1, 301: 0.9, 3085: 0.8, 526: 0.7, 2821: 0.6 });

  it('is repeatable with a seed and varies with it', async () => {
    const run = async (seed: number) =>
      (
        await generate(new ScriptedLM(spread), tokenizer, PROMPT, null, {
          temperature: 1,
          seed,
          maxNewTokens: 20,
        })
      ).tokenIds;
    expect(await run(7)).toEqual(await run(7));
    expect(await run(7)).not.toEqual(await run(8));
  });

  it('reduces to greedy with top_k 1 or a tiny top_p', async () => {
    for (const opts of [{ topK: 1 }, { topP: 0.01 }]) {
      const r = await generate(new ScriptedLM(spread), tokenizer, PROMPT, null, {
        temperature: 1,
        seed: 3,
        maxNewTokens: 10,
        ...opts,
      });
      expect(r.tokenIds).toEqual(new Array(10).fill(450));
    }
  });

  it('draws in proportion to the softmax', () => {
    const random = seededRandom(11);
    const draws = Array.from({ length: 4000 }, () =>
      sampleToken([Math.log(3), 0, -30], { temperature: 1, topP: 1, topK: 0 }, random),
    );
    const share = draws.filter((t) => t === 0).length / draws.length;
    expect(share).toBeGreaterThan(0.72);
    expect(share).toBeLessThan(0.78);
    expect(draws).not.toContain(2);
  });

  it('applies temperature, then top-k (renormalised), then top-p, as transformers does', () => {
    const logits = [Math.log(0.5), Math.log(0.3), Math.log(0.2)];
    const seen = (options: { temperature?: number; topP?: number; topK?: number }) => {
      const random = seededRandom(5);
      const o = { temperature: 1, topP: 1, topK: 0, ...options };
      return new Set(Array.from({ length: 300 }, () => sampleToken(logits, o, random)));
    };
    expect(seen({})).toEqual(new Set([0, 1, 2]));
    // Ascending cumulative 0.2 <= 0.4 drops token 2; 0.5 > 0.4 keeps token 1.
    expect(seen({ topP: 0.6 })).toEqual(new Set([0, 1]));
    // Within the top 2 the masses are 0.625 / 0.375, and 0.375 <= 0.4 drops token 1 too.
    expect(seen({ topK: 2, topP: 0.6 })).toEqual(new Set([0]));
    expect(seen({ topK: 2 })).toEqual(new Set([0, 1]));
    // A low temperature sharpens towards the argmax.
    expect(seen({ temperature: 0.01 })).toEqual(new Set([0]));
  });
});

describe('beam search', () => {
  // Greedy takes 450 (0.55) and then faces a flat field; 301 (0.45) leads to a near-certain "ungs" + EOS.
  const script = (h: readonly number[]): Record<number, number> => {
    if (h.length === 0) return { 450: Math.log(0.55), 301: Math.log(0.45) };
    if (h[0] === 450 && h.length === 1) return { 526: 0, 2821: 0, 29889: 0, 3085: 0 };
    if (h[0] === 301 && h.length === 1) return { 3085: 8 };
    return { [EOS]: 8 };
  };

  it('finds the more probable sequence greedy misses, releasing every state', async () => {
    const greedy = await generate(new ScriptedLM(script), tokenizer, PROMPT, null);
    expect(greedy.tokenIds[0]).toBe(450);
    const lm = new ScriptedLM(script);
    const events: TokenEvent[] = [];
    const beam = await generate(lm, tokenizer, PROMPT, null, { numBeams: 3, onToken: (e) => events.push(e) });
    expect(beam.tokenIds).toEqual([301, 3085, EOS]);
    expect(beam.text).toBe('lungs');
    expect(beam.stopReason).toBe('eos');
    expect(events.map((e) => e.tokenId)).toEqual(beam.tokenIds);
    expect(lm.forks).toBeGreaterThan(0);
    expect(lm.live).toBe(0);
  });

  it('with one beam equals greedy', async () => {
    const a = await generate(new ScriptedLM(script), tokenizer, PROMPT, null, { numBeams: 1 });
    const b = await generate(new ScriptedLM(script), tokenizer, PROMPT, null);
    expect(a.tokenIds).toEqual(b.tokenIds);
  });

  it('scores closed hypotheses by sum log p / length ** lengthPenalty (length counts the prompt ids)', async () => {
    // 450 (p 0.6) then EOS; 301 (p 0.4) then two near-certain tokens and EOS. Prompt: 4 ids.
    const fork = (h: readonly number[]): Record<number, number> => {
      if (h.length === 0) return { 450: Math.log(0.6), 301: Math.log(0.4) };
      const next: Record<string, number> = { '301': 3085, '301,3085': 526 };
      return { [next[h.join(',')] ?? EOS]: 30 };
    };
    const run = async (lengthPenalty: number) =>
      (await generate(new ScriptedLM(fork), tokenizer, PROMPT, null, { numBeams: 2, lengthPenalty }))
        .tokenIds;
    // log 0.6 / 5 = -0.102 beats log 0.4 / 7 = -0.131 ...
    expect(await run(1)).toEqual([450, EOS]);
    // ... but log 0.6 / 5^3 = -0.0041 loses to log 0.4 / 7^3 = -0.0027.
    expect(await run(3)).toEqual([301, 3085, 526, EOS]);
  });

  it('closes open beams at maxNewTokens', async () => {
    const lm = new ScriptedLM(chain([450]));
    const r = await generate(lm, tokenizer, PROMPT, null, { numBeams: 2, maxNewTokens: 5 });
    expect(r.tokenIds).toEqual(new Array(5).fill(450));
    expect(r.stopReason).toBe('max_new_tokens');
    expect(lm.live).toBe(0);
  });
});
