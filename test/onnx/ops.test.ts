/** Op helpers against plain TypeScript math, and the onnxruntime-node behaviour the decoder design rests on. */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { type Dim, Graph, op } from '../../src/onnx/index.js';
import { float32Bytes } from '../../src/onnx/tensor.js';

function randoms(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

async function run(g: Graph, feeds: Record<string, ort.Tensor>, fetches?: ort.InferenceSession.FetchesType) {
  const session = await ort.InferenceSession.create(await g.toBytes());
  const out = fetches ? await session.run(feeds, fetches) : await session.run(feeds);
  await session.release();
  return out;
}

const tensor = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);

/** cos/sin tables [positions, d/2] for RoPE with theta 10000. */
function rope(positions: number, d: number) {
  const half = d / 2;
  const cos = new Float32Array(positions * half);
  const sin = new Float32Array(positions * half);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < half; i++) {
      cos[p * half + i] = Math.cos(p / 10000 ** ((2 * i) / d));
      sin[p * half + i] = Math.sin(p / 10000 ** ((2 * i) / d));
    }
  }
  return { cos, sin, half };
}

describe('op helpers', () => {
  it('rmsNorm and skipRmsNorm compute x / sqrt(mean x^2 + eps) * w (and the residual sum)', async () => {
    const H = 16;
    const x = randoms(2 * H, 1);
    const skip = randoms(2 * H, 2);
    const w = randoms(H, 3);
    const g = new Graph('t');
    const s = g.root('/m');
    const xi = g.input('x', 'float32', [1, 2, H]);
    const si = g.input('skip', 'float32', [1, 2, H]);
    const scale = s.tensor('w', 'float32', [H], float32Bytes(w));
    const [normed, sum] = op.skipRmsNorm(s, xi, si, scale, 1e-5);
    g.output(op.rmsNorm(s, xi, scale, 1e-5), 'plain', 'float32', [1, 2, H]);
    g.output(normed!, 'fused', 'float32', [1, 2, H]);
    g.output(sum!, 'sum', 'float32', [1, 2, H]);
    const out = await run(g, { x: tensor(x, [1, 2, H]), skip: tensor(skip, [1, 2, H]) });
    const expectRms = (input: Float32Array, got: Float32Array) => {
      for (let r = 0; r < 2; r++) {
        const row = input.subarray(r * H, (r + 1) * H);
        const inv = 1 / Math.sqrt(row.reduce((a, v) => a + v * v, 0) / H + 1e-5);
        for (let i = 0; i < H; i++) expect(got[r * H + i]).toBeCloseTo(row[i]! * inv * w[i]!, 5);
      }
    };
    const total = x.map((v, i) => v + skip[i]!);
    expectRms(x, out.plain!.data as Float32Array);
    expectRms(total, out.fused!.data as Float32Array);
    expect(Array.from(out.sum!.data as Float32Array).map((v, i) => v - total[i]!)).toEqual(
      new Array(2 * H).fill(0),
    );
  });

  it('rotaryEmbedding applies the rotate_half convention at the given positions', async () => {
    const heads = 2;
    const d = 16;
    const S = 3;
    const x = randoms(S * heads * d, 4);
    const { cos, sin, half } = rope(8, d);
    const g = new Graph('t');
    const s = g.root('/m');
    const xi = g.input('x', 'float32', [1, S, heads * d]);
    const pos = g.input('pos', 'int64', [1, S]);
    const c = s.tensor('cos', 'float32', [8, half], float32Bytes(cos));
    const sn = s.tensor('sin', 'float32', [8, half], float32Bytes(sin));
    g.output(op.rotaryEmbedding(s, xi, pos, c, sn, heads), 'y', 'float32', [1, S, heads * d]);
    const positions = [2, 5, 7];
    const out = await run(g, {
      x: tensor(x, [1, S, heads * d]),
      pos: new ort.Tensor('int64', BigInt64Array.from(positions, BigInt), [1, S]),
    });
    const y = out.y!.data as Float32Array;
    for (let t = 0; t < S; t++) {
      for (let h = 0; h < heads; h++) {
        const base = (t * heads + h) * d;
        for (let i = 0; i < d; i++) {
          const j = i % half;
          const rotated = i < half ? -x[base + i + half]! : x[base + i - half]!;
          const want =
            x[base + i]! * cos[positions[t]! * half + j]! + rotated * sin[positions[t]! * half + j]!;
          expect(y[base + i]).toBeCloseTo(want, 5);
        }
      }
    }
  });

  it('groupQueryAttention: one decode step over its cache equals recomputing the sequence', async () => {
    const H = 2;
    const d = 16;
    const cap = 8;
    const W = 3 * H * d;
    const { cos, sin, half } = rope(16, d);
    const g = new Graph('t');
    const s = g.root('/m');
    const cacheShape: Dim[] = [1, H, cap, d];
    const a = op.groupQueryAttention(
      s,
      {
        query: g.input('qkv', 'float32', [1, 'S', W]),
        key: null,
        value: null,
        pastKey: g.input('past_key', 'float32', cacheShape),
        pastValue: g.input('past_value', 'float32', cacheShape),
        seqlensK: g.input('seqlens_k', 'int32', [1]),
        totalSequenceLength: g.input('total', 'int32', []),
        cos: s.tensor('cos', 'float32', [16, half], float32Bytes(cos)),
        sin: s.tensor('sin', 'float32', [16, half], float32Bytes(sin)),
      },
      H,
      H,
    );
    g.output(a.output, 'out', 'float32', [1, 'S', H * d]);
    g.output(a.presentKey, 'present_key', 'float32', cacheShape);
    g.output(a.presentValue, 'present_value', 'float32', cacheShape);
    const session = await ort.InferenceSession.create(await g.toBytes());
    const qkv = randoms(4 * W, 5);
    const step = async (from: number, to: number, k: ort.Tensor, v: ort.Tensor) =>
      session.run(
        {
          qkv: tensor(qkv.slice(from * W, to * W), [1, to - from, W]),
          past_key: k,
          past_value: v,
          seqlens_k: new ort.Tensor('int32', Int32Array.of(to - 1), [1]),
          total: new ort.Tensor('int32', Int32Array.of(to), []),
        },
        { out: null, present_key: k, present_value: v },
      );
    const cache = () => tensor(new Float32Array(H * cap * d), [1, H, cap, d]);
    const [k, v] = [cache(), cache()];
    await step(0, 3, k, v); // prompt of 3 fills the caller's buffers
    const decoded = (await step(3, 4, k, v)).out!.data as Float32Array;
    const full = (await step(0, 4, cache(), cache())).out!.data as Float32Array;
    for (let i = 0; i < H * d; i++) expect(decoded[i]).toBeCloseTo(full[3 * H * d + i]!, 5);
    await session.release();
  });
});

describe('onnxruntime-node 1.30 buffers (what the decoder design rests on)', () => {
  it('fills a preallocated output and returns a fresh copy of it', async () => {
    const n = 1 << 20;
    const g = new Graph('t');
    const x = g.input('x', 'float32', [n]);
    g.output(op.add(g.root('/m'), x, op.scalarF32(g.root('/m'), 1)), 'y', 'float32', [n]);
    const target = new Float32Array(n);
    const out = await run(g, { x: tensor(new Float32Array(n), [n]) }, { y: tensor(target, [n]) });
    // The caller's buffer is filled, but the returned tensor is another buffer: every fetched output costs a
    // copy as large as the tensor, so a KV cache must never be a fetched output (GroupQueryAttention's
    // shared past/present buffers would be copied every step). See models/llama.ts.
    expect(target[0]).toBe(1);
    expect((out.y!.data as Float32Array).buffer).not.toBe(target.buffer);
  });
});
