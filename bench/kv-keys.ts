/**
 * `npm run bench -- kv-keys [--positions 1430] [--queries 64] [--json]`
 *
 * What storing cached keys in 8 bits costs, against llama.cpp's key cache formats, on the same values: the error of
 * the attention scores q k / sqrt(d) and of the attention output softmax(scores) V against float64, relative to
 * their size (root of the summed squares). One head of 128 dims, `--positions` cached keys, `--queries` queries.
 * Rows (the arithmetic of each format, emulated exactly):
 *   cxr int8 keys: k = scale_k * round(k / scale_k) per position (scale max|k| / 127), q the same per row, the
 *     product in integers (models/llama.ts int8KeyScores);
 *   llama.cpp f16 keys (its default cache type): k and q rounded to fp16, products in float;
 *   llama.cpp q8_0 keys (-ctk q8_0): k and q in blocks of 32 with an fp16 scale each, integer dot per block.
 * Keys are Gaussian, or Gaussian with a few channels 10x larger (LLaMA's keys carry such outlier channels).
 * Random values, not a model: read it as a comparison of formats.
 */
import { parseArgs } from 'node:util';
import { float16ToFloat32, toFloat16 } from '../src/onnx/index.js';
import { relativeError, rng } from './support/error.js';

const D = 128;
const OUTLIER_CHANNELS = 4;
const OUTLIER_GAIN = 10;

interface KeyFormat {
  name: string;
  /** Bits per cached key value, scales included. */
  bits: number;
  /** One vector (query or key) as the format holds it, dequantised. */
  prepare: (v: Float32Array) => Float32Array;
}

function gaussianRows(rows: number, seed: number, outliers: boolean): Float32Array[] {
  const u = rng(seed);
  return Array.from({ length: rows }, () => {
    const v = Float32Array.from(
      { length: D },
      () => Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u()),
    );
    if (outliers) for (let c = 0; c < OUTLIER_CHANNELS; c++) v[(c * 37) % D]! *= OUTLIER_GAIN;
    return v;
  });
}

function dot(q: Float32Array, k: Float32Array): number {
  let acc = 0;
  for (let i = 0; i < D; i++) acc += q[i]! * k[i]!;
  return acc;
}

/** Symmetric 8-bit blocks of `block` values: returns the dequantised vector (each block's scale times its ints). */
function blockInt8(v: Float32Array, block: number, scaleToF16: boolean): Float32Array {
  const out = new Float32Array(v.length);
  for (let b = 0; b < v.length; b += block) {
    let amax = 0;
    for (let i = b; i < b + block; i++) amax = Math.max(amax, Math.abs(v[i]!));
    let scale = amax / 127;
    if (scaleToF16) scale = float16ToFloat32(toFloat16(Float32Array.of(scale))[0]!);
    const inv = scale > 0 ? 1 / scale : 0;
    for (let i = b; i < b + block; i++) out[i] = scale * Math.round(v[i]! * inv);
  }
  return out;
}

const FORMATS: KeyFormat[] = [
  {
    name: 'cxr int8 keys',
    bits: 8 + 64 / D, // int8 + a float scale and a float bias per position
    prepare: (v) => blockInt8(v, D, false),
  },
  {
    name: 'llama.cpp f16 keys',
    bits: 16,
    prepare: (v) => Float32Array.from(toFloat16(v), (h) => float16ToFloat32(h)),
  },
  {
    name: 'llama.cpp q8_0 keys',
    bits: 8.5,
    prepare: (v) => blockInt8(v, 32, true),
  },
];

/** Scores [queries, positions] and outputs [queries, D] of softmax(q k / sqrt D) V, in float64. */
function attend(qs: Float32Array[], ks: Float32Array[], vs: Float32Array[]) {
  const scores = new Float64Array(qs.length * ks.length);
  const outputs = new Float64Array(qs.length * D);
  for (let r = 0; r < qs.length; r++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let p = 0; p < ks.length; p++) {
      const s = dot(qs[r]!, ks[p]!) / Math.sqrt(D);
      scores[r * ks.length + p] = s;
      max = Math.max(max, s);
    }
    let sum = 0;
    for (let p = 0; p < ks.length; p++) sum += Math.exp(scores[r * ks.length + p]! - max);
    for (let p = 0; p < ks.length; p++) {
      const w = Math.exp(scores[r * ks.length + p]! - max) / sum;
      for (let i = 0; i < D; i++) outputs[r * D + i]! += w * vs[p]![i]!;
    }
  }
  return { scores, outputs };
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      positions: { type: 'string', default: '1430' },
      queries: { type: 'string', default: '64' },
      json: { type: 'boolean', default: false },
    },
  });
  const [positions, queries] = [Number(values.positions), Number(values.queries)];
  const results: { format: string; bits: number; keys: string; scores: number; output: number }[] = [];
  for (const outliers of [false, true]) {
    const keys = gaussianRows(positions, 11, outliers);
    const qs = gaussianRows(queries, 12, outliers);
    const vs = gaussianRows(positions, 13, false);
    const exact = attend(qs, keys, vs);
    for (const f of FORMATS) {
      // Each format's products equal those of its dequantised vectors (integer dots are exact in float64).
      const got = attend(qs.map(f.prepare), keys.map(f.prepare), vs);
      results.push({
        format: f.name,
        bits: f.bits,
        keys: outliers ? 'outlier channels' : 'gaussian',
        scores: relativeError(exact.scores, got.scores),
        output: relativeError(exact.outputs, got.outputs),
      });
    }
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ positions, queries, headDim: D, results }, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `relative error of attention with cached keys (${positions} positions, ${queries} queries, d ${D}), lower is better\n`,
  );
  const head = ['format', 'bits/value', 'keys', 'scores', 'output'];
  process.stdout.write(
    `${head[0]!.padEnd(22)}${head
      .slice(1)
      .map((h) => h.padStart(18))
      .join('')}\n`,
  );
  for (const r of results) {
    const cells = [
      r.bits.toFixed(2),
      r.keys,
      `${(100 * r.scores).toFixed(4)}%`,
      `${(100 * r.output).toFixed(4)}%`,
    ];
    process.stdout.write(`${r.format.padEnd(22)}${cells.map((c) => c.padStart(18)).join('')}\n`);
  }
}
