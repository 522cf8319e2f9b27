/**
 * Block-wise weight quantisation in the layout of the com.microsoft MatMulNBits operator.
 *
 * A weight W [N = out, K = in] (the checkpoint's own Linear layout) is cut along K into blocks of `blockSize`.
 * Each block gets a float scale and an integer zero point (asymmetric, the range always includes 0):
 *   scale = c (max(0, max x) - min(0, min x)) / (2^bits - 1),  zp = round(-c min / scale),
 * with the clip factor c <= 1 chosen per 4-bit block for the least squared error,
 *   q = clamp(round(x / scale) + zp, 0, 2^bits - 1),         x ~ (q - zp) * scale.
 * Packing: B is uint8 [N, blocks, blockSize * bits / 8]; for 4 bits, element 2j is the low nibble of byte j.
 * Zero points are packed the same way per row: [N, ceil(blocks * bits / 8)].
 */

export type QuantBits = 4 | 8;

/** Block length along the input dimension for 8-bit weights (and for 4-bit ones when asked for). */
export const DEFAULT_BLOCK_SIZE = 32;

/**
 * Block length for 4-bit weights. 64 makes y = x W^T as accurate as llama.cpp's Q4_0 on the same values
 * (`npm run bench -- quant`: 8.66% against 8.60% relative error on Gaussian weights, 10.81% against 10.84% on
 * Laplace ones) while ONNX Runtime's MatMulNBits runs a 128-row prefill block 18% faster than at 32 (32: 7.6%
 * error, the most accurate; 128: 9.4%, 60% faster than 32). Bundles record the block size in their graphs.
 */
export const DEFAULT_INT4_BLOCK_SIZE = 64;

/** The 4-bit block lengths cxr offers (MatMulNBits takes any power of two from 16; these were measured). */
export const INT4_BLOCK_SIZES = [32, 64, 128] as const;
export type Int4BlockSize = (typeof INT4_BLOCK_SIZES)[number];

export interface BlockQuantized {
  bits: QuantBits;
  blockSize: number;
  /** Rows (output features). */
  n: number;
  /** Columns (input features). */
  k: number;
  blocks: number;
  /** [n, blocks, blockSize * bits / 8] */
  packed: Uint8Array;
  /** [n, blocks] */
  scales: Float32Array;
  /** [n, ceil(blocks * bits / 8)] */
  zeroPoints: Uint8Array;
}

export function quantizeBlockwise(
  w: Float32Array,
  n: number,
  k: number,
  bits: QuantBits,
  blockSize = DEFAULT_BLOCK_SIZE,
): BlockQuantized {
  if (w.length !== n * k) throw new Error(`quantizeBlockwise: ${w.length} values for [${n}, ${k}]`);
  const qmax = (1 << bits) - 1;
  const blocks = Math.ceil(k / blockSize);
  const blobBytes = (blockSize * bits) / 8;
  const zpRowBytes = Math.ceil((blocks * bits) / 8);
  const packed = new Uint8Array(n * blocks * blobBytes);
  const scales = new Float32Array(n * blocks);
  const zeroPoints = new Uint8Array(n * zpRowBytes);
  const q = new Uint8Array(blockSize);
  const fit = { scale: 0, zp: 0 };
  for (let row = 0; row < n; row++) {
    for (let b = 0; b < blocks; b++) {
      const start = row * k + b * blockSize;
      const len = Math.min(blockSize, k - b * blockSize);
      fitBlock(w, start, len, qmax, bits === 4 ? CLIP_CANDIDATES : FULL_RANGE, fit);
      q.fill(fit.zp); // padding past K dequantises to exactly 0
      if (fit.scale !== 0) {
        const inv = 1 / fit.scale;
        for (let i = 0; i < len; i++) {
          const v = ((w[start + i]! * inv + fit.zp + ROUND_OFFSET) | 0) - ROUND_BIAS;
          q[i] = v < 0 ? 0 : Math.min(v, qmax);
        }
      }
      scales[row * blocks + b] = fit.scale;
      writePacked(packed, (row * blocks + b) * blobBytes, q, bits);
      setPacked(zeroPoints, row * zpRowBytes, b, fit.zp, bits);
    }
  }
  return { bits, blockSize, n, k, blocks, packed, scales, zeroPoints };
}

/** The float weights the quantised form stands for, [n, k] (for tests and error reports). */
export function dequantizeBlockwise(qw: BlockQuantized): Float32Array {
  const { n, k, blocks, blockSize, bits } = qw;
  const blobBytes = (blockSize * bits) / 8;
  const zpRowBytes = Math.ceil((blocks * bits) / 8);
  const out = new Float32Array(n * k);
  for (let row = 0; row < n; row++) {
    for (let b = 0; b < blocks; b++) {
      const scale = qw.scales[row * blocks + b]!;
      const zp = getPacked(qw.zeroPoints, row * zpRowBytes, b, bits);
      const blob = (row * blocks + b) * blobBytes;
      for (let i = 0; i < blockSize && b * blockSize + i < k; i++) {
        out[row * k + b * blockSize + i] = (getPacked(qw.packed, blob, i, bits) - zp) * scale;
      }
    }
  }
  return out;
}

/**
 * Range shrink factors tried per block: clipping the extremes a little often lowers the block's squared error,
 * most of all at 4 bits (the full min/max range is the first candidate, so the fit is never worse than it).
 * 8-bit blocks keep the full range.
 */
const CLIP_CANDIDATES = [1, 0.95, 0.9, 0.85, 0.8, 0.75];
const FULL_RANGE = [1];
/** Rounding by truncation: values quantised here are above -ROUND_BIAS (at most a few qmax below zero). */
const ROUND_BIAS = 1 << 20;
const ROUND_OFFSET = ROUND_BIAS + 0.5;

/** The scale and zero point of one block (into `out`): the candidate range with the least squared error. */
function fitBlock(
  w: Float32Array,
  start: number,
  len: number,
  qmax: number,
  candidates: readonly number[],
  out: { scale: number; zp: number },
): void {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < len; i++) {
    const x = w[start + i]!;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  out.scale = 0;
  out.zp = 0;
  let bestErr = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const scale = Math.fround(((hi - lo) * c) / qmax);
    if (scale === 0) return;
    const zp = clamp(Math.round((-lo * c) / scale), 0, qmax);
    if (candidates.length === 1) {
      out.scale = scale;
      out.zp = zp;
      return;
    }
    const inv = 1 / scale;
    let err = 0;
    for (let i = 0; i < len; i++) {
      const x = w[start + i]!;
      // floor(y + 0.5) == Math.round(y) via integer truncation of a value kept positive by the offset
      let v = ((x * inv + zp + ROUND_OFFSET) | 0) - ROUND_BIAS;
      v = v < 0 ? 0 : Math.min(v, qmax);
      const r = (v - zp) * scale - x;
      err += r * r;
    }
    if (err < bestErr) {
      bestErr = err;
      out.scale = scale;
      out.zp = zp;
    }
  }
  if (candidates.length > 1) refineBlock(w, start, len, qmax, out, bestErr);
}

/**
 * Least-squares refinement of a 4-bit block's fit: alternate between rounding the values with the current scale
 * and re-solving the scale for those levels, scale = sum x (q - zp) / sum (q - zp)^2, whose squared error is
 * sum x^2 - num^2 / den (re-rounding with that scale can only lower it). Keeps the fit with the least error.
 */
function refineBlock(
  w: Float32Array,
  start: number,
  len: number,
  qmax: number,
  out: { scale: number; zp: number },
  startErr: number,
): void {
  let sumSq = 0;
  for (let i = 0; i < len; i++) sumSq += w[start + i]! * w[start + i]!;
  let bestErr = startErr;
  const zp = out.zp;
  let scale = out.scale;
  for (let iter = 0; iter < REFINE_ITERATIONS; iter++) {
    const inv = 1 / scale;
    let num = 0;
    let den = 0;
    for (let i = 0; i < len; i++) {
      const x = w[start + i]!;
      let v = ((x * inv + zp + ROUND_OFFSET) | 0) - ROUND_BIAS;
      v = (v < 0 ? 0 : Math.min(v, qmax)) - zp;
      num += x * v;
      den += v * v;
    }
    if (den === 0 || num <= 0) return;
    scale = Math.fround(num / den);
    const err = sumSq - (num * num) / den;
    if (!(err < bestErr)) return;
    bestErr = err;
    out.scale = scale;
  }
}

/** Refinement rounds per 4-bit block (the error stops falling after two or three). */
const REFINE_ITERATIONS = 3;

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(Math.max(x, lo), hi);
}

function writePacked(dst: Uint8Array, offset: number, q: Uint8Array, bits: QuantBits): void {
  if (bits === 8) {
    dst.set(q, offset);
    return;
  }
  for (let i = 0; i < q.length; i += 2) dst[offset + i / 2] = q[i]! | (q[i + 1]! << 4);
}

function setPacked(dst: Uint8Array, offset: number, index: number, value: number, bits: QuantBits): void {
  if (bits === 8) {
    dst[offset + index] = value;
    return;
  }
  const byte = offset + (index >> 1);
  dst[byte] = index & 1 ? (dst[byte]! & 0x0f) | (value << 4) : (dst[byte]! & 0xf0) | value;
}

function getPacked(src: Uint8Array, offset: number, index: number, bits: QuantBits): number {
  if (bits === 8) return src[offset + index]!;
  const byte = src[offset + (index >> 1)]!;
  return index & 1 ? byte >> 4 : byte & 0x0f;
}
