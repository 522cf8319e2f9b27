/**
 * Prefill in chunks (several decoder runs over one growing cache) against the whole prompt in one run, on tiny-a
 * fp32: the same last logits, the same cache (the next decode steps agree), and the run log proves the chunks ran.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessions, type LlavaSessions } from '../../src/llava/index.js';
import type { LlavaRadWeights } from '../../src/weights/index.js';
import { floats, ids, manifest, maxAbsDiff, openTinyA } from '../models/tiny-a.js';

const CASE = manifest.cases[0]!;
/**
 * Chunked and whole runs add the same products in another order (GEMM blocking differs with the row count): the
 * tolerance of the cached-decode-against-recompute test (sessions.paths.test.ts), the same kind of reordering.
 */
const TOL = 1e-4;

let weights: LlavaRadWeights;
let s: LlavaSessions;

beforeAll(async () => {
  weights = await openTinyA();
  s = await createSessions(weights, { threads: 1 });
});
afterAll(async () => {
  await s.vision.dispose();
  await s.lm.dispose();
  await weights.close();
});

describe('chunked prefill', () => {
  it('equals the one-run prefill, logits and cache, with the chunks visible in the run log', async () => {
    const prompt = ids(CASE.input_ids_file);
    const rows = await s.vision.encode(floats(CASE.pixel_values_file));
    const whole = await s.lm.prefill(prompt, rows, Number.MAX_SAFE_INTEGER);
    const total = whole.state.length;
    expect(s.lm.runs.at(-1)).toEqual({ past: 0, tokens: total });

    const chunk = Math.ceil(total / 3) - 1; // uneven: the last chunk is shorter
    const chunked = await s.lm.prefill(prompt, rows, chunk);
    const runs = s.lm.runs.slice(-Math.ceil(total / chunk));
    expect(runs.map((r) => r.past)).toEqual(runs.map((_, i) => i * chunk));
    expect(runs.reduce((a, r) => a + r.tokens, 0)).toBe(total);
    expect(chunked.state.length).toBe(total);
    expect(maxAbsDiff(whole.logits, chunked.logits)).toBeLessThan(TOL);

    for (const id of ids(CASE.generated_ids_file).slice(0, 3)) {
      const a = await s.lm.step(whole.state, id);
      const b = await s.lm.step(chunked.state, id);
      expect(maxAbsDiff(a, b)).toBeLessThan(TOL);
    }
    s.lm.release(whole.state);
    s.lm.release(chunked.state);
  });

  it('refuses a chunk size that is not a positive integer', async () => {
    await expect(s.lm.prefill([1, 2, 3], null, 0)).rejects.toThrow(/chunk/);
  });
});
