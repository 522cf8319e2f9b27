/**
 * `npm run bench -- quant [--rows 512] [--cols 4096] [--batch 16] [--json]`
 *
 * How much accuracy each 4-bit weight format costs, on the same weights and inputs: the error of y = x W^T
 * against float64, relative to |y| (root of the summed squares). Rows:
 *   cxr int4 b32 / b64 / b128: MatMulNBits as cxr builds it (asymmetric blocks with a least-squares clip,
 *     quantize.ts), run by ONNX Runtime at accuracy level 4 (activations in int8 per block, what bundles use);
 *   cxr int4 b128 level 0: the same weights with float activations (the weights' share of the error);
 *   llama.cpp Q4_0: ggml's Q4_0 weights (blocks of 32, symmetric, fp16 scale) times Q8_0 activations, the integer
 *     dot product its CPU kernel computes, emulated here exactly.
 * Inputs: weights Gaussian or Laplace (heavier tails); activations Gaussian, or Gaussian with a few channels 20x
 * larger (the outlier channels of LLaMA activations). Random, not a trained checkpoint: read it as a comparison of
 * formats on the same values, not as a model's accuracy.
 */
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { type AccuracyLevel, float16ToFloat32, Graph, op } from '../src/onnx/index.js';
import { quantizeGgml } from './llava/ggml-quant.js';
import { relativeError, rng } from './support/error.js';

interface Variant {
  name: string;
  /** Bits per weight in the model file (scales, zero points included). */
  fileBits: number;
  run: (w: Float32Array, x: Float32Array, n: number, k: number, m: number) => Promise<Float32Array>;
}

const OUTLIER_CHANNELS = 8;
const OUTLIER_GAIN = 20;

function gaussian(count: number, seed: number, sigma: number): Float32Array {
  const u = rng(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    out[i] = sigma * Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());
  }
  return out;
}

/** Laplace with the same standard deviation as gaussian(sigma): scale b = sigma / sqrt 2. */
function laplace(count: number, seed: number, sigma: number): Float32Array {
  const u = rng(seed);
  const b = sigma / Math.SQRT2;
  return Float32Array.from({ length: count }, () => {
    const v = u() - 0.5;
    return -b * Math.sign(v) * Math.log(1 - 2 * Math.abs(v) || 1e-12);
  });
}

function withOutliers(x: Float32Array, k: number): Float32Array {
  const out = x.slice();
  for (let row = 0; row < x.length / k; row++) {
    for (let c = 0; c < OUTLIER_CHANNELS; c++) out[row * k + ((c * 997) % k)]! *= OUTLIER_GAIN;
  }
  return out;
}

function exact(w: Float32Array, x: Float32Array, n: number, k: number, m: number): Float64Array {
  const y = new Float64Array(m * n);
  for (let r = 0; r < m; r++) {
    for (let o = 0; o < n; o++) {
      let acc = 0;
      for (let i = 0; i < k; i++) acc += x[r * k + i]! * w[o * k + i]!;
      y[r * n + o] = acc;
    }
  }
  return y;
}

function cxrInt4(blockSize: number, accuracyLevel: AccuracyLevel): Variant {
  return {
    name: `cxr int4 b${blockSize}${accuracyLevel === 4 ? '' : ` level ${accuracyLevel}`}`,
    fileBits: 4 + 32 / blockSize + 4 / blockSize,
    run: async (w, x, n, k, m) => {
      const g = new Graph('quant');
      const input = g.input('x', 'float32', [m, k]);
      const weights = { out: n, in: k, read: async () => w };
      const y = op.linear(g.root('/m'), input, weights, { format: 'int4', accuracyLevel, blockSize });
      g.output(y, 'y', 'float32', [m, n]);
      const session = await ort.InferenceSession.create(await g.toBytes(), { intraOpNumThreads: 1 });
      const out = await session.run({ x: new ort.Tensor('float32', x, [m, k]) });
      await session.release();
      return out.y!.data as Float32Array;
    },
  };
}

/** ggml's vec_dot_q4_0_q8_0: per block of 32, d_w * d_x * sum((q_w - 8) * q_x). */
const LLAMA_Q4_0: Variant = {
  name: 'llama.cpp Q4_0 x Q8_0',
  fileBits: 4.5,
  run: async (w, x, n, k, m) => {
    const qw = quantizeGgml('Q4_0', w);
    const qx = quantizeGgml('Q8_0', x);
    const y = new Float32Array(m * n);
    const blocks = k / 32;
    const half = (b: Uint8Array, at: number) => float16ToFloat32(b[at]! | (b[at + 1]! << 8));
    for (let r = 0; r < m; r++) {
      for (let o = 0; o < n; o++) {
        let acc = 0;
        for (let b = 0; b < blocks; b++) {
          const wo = (o * blocks + b) * 18;
          const xo = (r * blocks + b) * 34;
          let dot = 0;
          for (let j = 0; j < 16; j++) {
            const byte = qw[wo + 2 + j]!;
            dot += ((byte & 15) - 8) * ((qx[xo + 2 + j]! << 24) >> 24);
            dot += ((byte >> 4) - 8) * ((qx[xo + 2 + j + 16]! << 24) >> 24);
          }
          acc += half(qw, wo) * half(qx, xo) * dot;
        }
        y[r * n + o] = acc;
      }
    }
    return y;
  },
};

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rows: { type: 'string', default: '512' },
      cols: { type: 'string', default: '4096' },
      batch: { type: 'string', default: '16' },
      json: { type: 'boolean', default: false },
    },
  });
  const [n, k, m] = [Number(values.rows), Number(values.cols), Number(values.batch)];
  if (k % 128 !== 0) throw new Error(`--cols must be a multiple of 128: ${k}`);
  const variants = [LLAMA_Q4_0, cxrInt4(32, 4), cxrInt4(64, 4), cxrInt4(128, 4), cxrInt4(128, 0)];
  const weights = { gaussian: gaussian(n * k, 1, 0.02), laplace: laplace(n * k, 2, 0.02) };
  const base = gaussian(m * k, 3, 1);
  const inputs = { gaussian: base, outliers: withOutliers(base, k) };
  const results: { variant: string; fileBits: number; weights: string; inputs: string; error: number }[] = [];
  for (const [wName, w] of Object.entries(weights)) {
    for (const [xName, x] of Object.entries(inputs)) {
      const ref = exact(w, x, n, k, m);
      for (const v of variants) {
        const error = relativeError(ref, await v.run(w, x, n, k, m));
        results.push({ variant: v.name, fileBits: v.fileBits, weights: wName, inputs: xName, error });
      }
    }
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ rows: n, cols: k, batch: m, results }, null, 2)}\n`);
    return;
  }
  const cases = Object.keys(weights).flatMap((w) => Object.keys(inputs).map((x) => `${w}/${x}`));
  process.stdout.write(`relative error of y = x W^T (W ${n} x ${k}, ${m} input rows), lower is better\n`);
  process.stdout.write(
    `${'format'.padEnd(26)}${'file bits'.padStart(10)}${cases.map((c) => c.padStart(20)).join('')}\n`,
  );
  for (const v of variants) {
    const errs = cases.map((c) => {
      const r = results.find((e) => e.variant === v.name && `${e.weights}/${e.inputs}` === c)!;
      return `${(100 * r.error).toFixed(3)}%`.padStart(20);
    });
    process.stdout.write(`${v.name.padEnd(26)}${v.fileBits.toFixed(3).padStart(10)}${errs.join('')}\n`);
  }
}
