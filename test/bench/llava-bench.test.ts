/**
 * The llava bench's own code on a 2-layer, small-width model: every engine builds, runs in its child process and
 * reports figures, and the GGUF it writes is what llama.cpp reads. (Speed is measured by `npm run bench -- llava`.)
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { QK, quantizeGgml } from '../../bench/llava/ggml-quant.js';
import { ENGINES } from '../../bench/llava/run.js';
import { randomTensor } from '../../bench/llava/shapes.js';
import { runLlavaBench } from '../../bench/llava.js';
import { float16ToFloat32 } from '../../src/onnx/index.js';

describe('llava bench', () => {
  it('measures every engine on the tiny shape (1 of its 2 layers: scaled) and reports ratios', async () => {
    const r = await runLlavaBench({ tiny: true, layers: 1, decodeTokens: 4, reps: 1, engines: ENGINES });
    expect(r.layers).toBe(1);
    expect(r.full_layers).toBe(2);
    expect(r.scaled).toBe(true);
    expect(r.prompt_tokens).toBe(16 + 6);
    const row = (e: string) => r.rows.find((x) => x.engine === e)!;
    for (const e of ['vision-fp32', 'vision-fp16']) {
      expect(row(e).vision_ms).toBeGreaterThan(0);
      expect(row(e).peak_rss_mb).toBeGreaterThan(0);
    }
    const decoders = ENGINES.filter((e) => e.startsWith('cxr-') || e.startsWith('llama-'));
    expect(decoders).toHaveLength(8);
    for (const e of decoders) {
      expect(row(e).prefill_tok_s, e).toBeGreaterThan(0);
      expect(row(e).prefill_tok_s_runs, e).toHaveLength(3); // the default prefill repetitions, median reported
      expect(row(e).decode_s_per_token, e).toBeGreaterThan(0);
      expect(row(e).peak_rss_mb, e).toBeGreaterThan(0);
      expect(row(e).model_mb, e).toBeGreaterThan(0);
    }
    const { int4_vs_q4_0, int4_f32_keys_vs_q4_0, int4_b32_vs_q4_0, int4_b128_vs_q4_0, int8_vs_q8_0 } =
      r.ratios;
    for (const q of [
      int4_vs_q4_0,
      int4_f32_keys_vs_q4_0,
      int4_b32_vs_q4_0,
      int4_b128_vs_q4_0,
      int8_vs_q8_0,
    ]) {
      expect(q.decode).toBeGreaterThan(0);
      expect(q.prefill).toBeGreaterThan(0);
      expect(q.peak_rss).toBeGreaterThan(0);
    }
    // Against the better of the two llama.cpp Q4_0 rows, figure by figure.
    const q4 = [row('llama-q4_0'), row('llama-q4_0-fa-off')];
    const fastest = Math.min(...q4.map((x) => x.decode_s_per_token!));
    expect(int4_vs_q4_0.decode).toBeCloseTo(row('cxr-int4').decode_s_per_token! / fastest, 2);
    expect(row('llama-q4_0-fa-off').note).toContain('flash attention false');
    const torch = row('torch-fp32');
    if (existsSync('/usr/bin/python3') && !torch.skipped) expect(torch.vision_ms).toBeGreaterThan(0);
    else expect(torch.skipped).toMatch(/python3|torch/);
  }, 120_000);

  it('with --rounds measures the engines in turn and pools their runs, keeping each round', async () => {
    const r = await runLlavaBench({
      tiny: true,
      decodeTokens: 2,
      reps: 1,
      engines: ['cxr-int4', 'llama-q4_0'],
      rounds: 2,
    });
    expect(r.rounds).toBe(2);
    for (const row of r.rows) {
      expect(row.prefill_tok_s_runs, row.engine).toHaveLength(6); // 3 prefills per round
      expect(row.rounds, row.engine).toHaveLength(2);
      for (const round of row.rounds!) expect(round.decode_s_per_token).toBeGreaterThan(0);
    }
  }, 120_000);

  it('quantises blocks as ggml does (Q4_0 and Q8_0 round-trip within half a step)', () => {
    const x = randomTensor('test/block', [4 * QK]);
    for (const [type, bytes, levels] of [
      ['Q4_0', 18, 8],
      ['Q8_0', 34, 127],
    ] as const) {
      const q = quantizeGgml(type, x);
      expect(q.length).toBe(4 * bytes);
      for (let b = 0; b < 4; b++) {
        const block = x.subarray(b * QK, (b + 1) * QK);
        const d = float16ToFloat32(q[b * bytes]! | (q[b * bytes + 1]! << 8));
        const amax = Math.max(...block.map(Math.abs));
        // d is stored as fp16 (relative error <= 2^-11); x / d is rounded with the unrounded scale.
        expect(Math.abs(Math.abs(d) - amax / levels)).toBeLessThanOrEqual((amax / levels) * 2 ** -11);
        const tolerance = Math.abs(d) * (0.5 + levels * 2 ** -11);
        for (let i = 0; i < QK; i++) {
          const raw = type === 'Q8_0' ? (q[b * bytes + 2 + i]! << 24) >> 24 : nibble(q, b * bytes + 2, i) - 8;
          expect(Math.abs(raw * d - block[i]!)).toBeLessThanOrEqual(tolerance);
        }
      }
    }
  });
});

/** Q4_0 element i of a block: byte i low nibble for the first half, byte i - 16 high nibble for the second. */
function nibble(q: Uint8Array, at: number, i: number): number {
  return i < QK / 2 ? q[at + i]! & 0xf : q[at + i - QK / 2]! >> 4;
}
