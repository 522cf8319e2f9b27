/**
 * Prefill in chunks (several decoder runs over one growing cache) against the whole prompt in one run, on tiny-a
 * fp32: the same last logits, the same cache (the next decode steps agree), and the run log proves the chunks ran.
 */
import { describe, expect, it } from 'vitest';
import { floats, ids, manifest, maxAbsDiff, useTinyASessions } from '../models/tiny-a.js';

const CASE = manifest.cases[0]!;
/**
 * Chunked and whole runs add the same products in another order (GEMM blocking differs with the row count): the
 * tolerance of the cached-decode-against-recompute test (sessions.paths.test.ts), the same kind of reordering.
 */
const TOL = 1e-4;

const sessions = useTinyASessions();

describe('chunked prefill', () => {
  it('equals the one-run prefill, logits and cache, with the chunks visible in the run log', async () => {
    const prompt = ids(CASE.input_ids_file);
    const rows = await sessions().vision.encode(floats(CASE.pixel_values_file));
    const whole = await sessions().lm.prefill(prompt, rows, Number.MAX_SAFE_INTEGER);
    const total = whole.state.length;
    expect(sessions().lm.runs.at(-1)).toEqual({ past: 0, tokens: total, width: 0 });

    const chunk = Math.ceil(total / 3) - 1; // uneven: the last chunk is shorter
    const chunked = await sessions().lm.prefill(prompt, rows, chunk);
    const runs = sessions().lm.runs.slice(-Math.ceil(total / chunk));
    expect(runs.map((r) => r.past)).toEqual(runs.map((_, i) => i * chunk));
    // Between chunks the layout is widened to exactly the cached length: no chunk attends to a masked position.
    expect(runs.map((r) => r.width)).toEqual(runs.map((r) => r.past));
    expect(runs.reduce((a, r) => a + r.tokens, 0)).toBe(total);
    expect(chunked.state.length).toBe(total);
    expect(maxAbsDiff(whole.logits, chunked.logits)).toBeLessThan(TOL);

    for (const id of ids(CASE.generated_ids_file).slice(0, 3)) {
      const a = await sessions().lm.step(whole.state, id);
      const b = await sessions().lm.step(chunked.state, id);
      expect(maxAbsDiff(a, b)).toBeLessThan(TOL);
    }
    sessions().lm.release(whole.state);
    sessions().lm.release(chunked.state);
  });

  it('refuses a chunk size that is not a positive integer', async () => {
    await expect(sessions().lm.prefill([1, 2, 3], null, 0)).rejects.toThrow(/chunk/);
  });
});
