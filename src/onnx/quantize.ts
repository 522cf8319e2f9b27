/**
 * Block-wise weight quantisation in the layout of the com.microsoft MatMulNBits operator.
 *
 * A weight W [N = out, K = in] (the checkpoint's own Linear layout) is cut along K into blocks of `blockSize`.
 * Each block gets a float scale and an integer zero point (asymmetric, the range always includes 0):
 *   scale = (max(0, max x) - min(0, min x)) / (2^bits - 1),  zp = round(-min / scale),
 *   q = clamp(round(x / scale) + zp, 0, 2^bits - 1),         x ~ (q - zp) * scale.
 * Packing: B is uint8 [N, blocks, blockSize * bits / 8]; for 4 bits, element 2j is the low nibble of byte j.
 * Zero points are packed the same way per row: [N, ceil(blocks * bits / 8)].
 */

export type QuantBits = 4 | 8;

/** Block length along the input dimension (the usual choice for int4 LLM weights). */
export const DEFAULT_BLOCK_SIZE = 32;

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
  for (let row = 0; row < n; row++) {
    for (let b = 0; b < blocks; b++) {
      const start = row * k + b * blockSize;
      const len = Math.min(blockSize, k - b * blockSize);
      let lo = 0;
      let hi = 0;
      for (let i = 0; i < len; i++) {
        const x = w[start + i]!;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      const scale = Math.fround((hi - lo) / qmax);
      const zp = scale === 0 ? 0 : clamp(Math.round(-lo / scale), 0, qmax);
      q.fill(zp); // padding past K dequantises to exactly 0
      if (scale !== 0) {
        for (let i = 0; i < len; i++) q[i] = clamp(Math.round(w[start + i]! / scale) + zp, 0, qmax);
      }
      scales[row * blocks + b] = scale;
      writePacked(packed, (row * blocks + b) * blobBytes, q, bits);
      setPacked(zeroPoints, row * zpRowBytes, b, zp, bits);
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
