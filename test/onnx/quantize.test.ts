import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Graph, op } from '../../src/onnx/index.js';
import { dequantizeBlockwise, quantizeBlockwise } from '../../src/onnx/quantize.js';

/** Deterministic pseudo-random values in [-0.5, 0.5). */
function randoms(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

function relativeError(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += a[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

describe('block quantisation', () => {
  it('8-bit blocks reconstruct within half a step', () => {
    const w = randoms(16 * 64, 1);
    const q = quantizeBlockwise(w, 16, 64, 8);
    const back = dequantizeBlockwise(q);
    for (let i = 0; i < w.length; i++) {
      const scale = q.scales[Math.floor(i / 64) * q.blocks + Math.floor((i % 64) / q.blockSize)]!;
      expect(Math.abs(back[i]! - w[i]!)).toBeLessThanOrEqual(scale / 2 + 1e-7);
    }
  });

  it('4-bit blocks keep the weights to a few percent, and zero blocks stay exactly zero', () => {
    const w = randoms(8 * 96, 2);
    w.fill(0, 0, 32); // one all-zero block
    const back = dequantizeBlockwise(quantizeBlockwise(w, 8, 96, 4));
    expect(relativeError(w, back)).toBeLessThan(0.1);
    expect(Array.from(back.subarray(0, 32))).toEqual(new Array(32).fill(0));
  });

  it.each([
    [4, 32],
    [4, 64],
    [4, 128],
    [8, 32],
  ] as const)(
    'MatMulNBits with %i-bit packing in blocks of %i equals x dequant(W)^T (K not a multiple of the block)',
    async (bits, blockSize) => {
      const N = 24;
      const K = 80;
      const w = randoms(N * K, 3);
      const x = randoms(3 * K, 4);
      const g = new Graph('t');
      const input = g.input('x', 'float32', [1, 3, K]);
      const y = op.linear(
        g.root('/m'),
        input,
        { out: N, in: K, read: async () => w },
        { format: bits === 4 ? 'int4' : 'int8', accuracyLevel: 0, blockSize }, // float activations: exact up to rounding,
      );
      g.output(y, 'y', 'float32', [1, 3, N]);
      expect(g.opTypes()).toContain('com.microsoft.MatMulNBits');
      const session = await ort.InferenceSession.create(await g.toBytes());
      const got = (await session.run({ x: new ort.Tensor('float32', x, [1, 3, K]) })).y!.data as Float32Array;
      const deq = dequantizeBlockwise(quantizeBlockwise(w, N, K, bits, blockSize));
      for (let r = 0; r < 3; r++) {
        for (let n = 0; n < N; n++) {
          let want = 0;
          for (let k = 0; k < K; k++) want += x[r * K + k]! * deq[n * K + k]!;
          expect(Math.abs(got[r * N + n]! - want)).toBeLessThan(1e-4);
        }
      }
      await session.release();
    },
  );
});
