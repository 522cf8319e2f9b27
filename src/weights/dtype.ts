/**
 * Element types of stored tensors and their exact conversion to float32.
 * fp16 and bf16 are subsets of float32, so the upcast is exact; the only rounding step in this
 * layer is float32 -> fp16 (round to nearest, ties to even), used to reproduce fp16 LoRA merges.
 */
import type { TensorDtype } from './types.js';

export const DTYPE_BYTES: Record<TensorDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export function isTensorDtype(s: string): s is TensorDtype {
  return Object.hasOwn(DTYPE_BYTES, s);
}

export function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** float32 value of every fp16 bit pattern: a 256 KiB table makes the upcast one lookup per element. */
let f16Table: Float32Array | undefined;

/** The shared table (do not modify). */
export function fp16ToFloat32Table(): Float32Array {
  if (f16Table) return f16Table;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) table[h] = fp16BitsToNumber(h);
  f16Table = table;
  return table;
}

/** The IEEE 754 binary16 value of `h` (exact, via powers of two). */
export function fp16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** float32 -> fp16 bits, round to nearest even; overflow gives infinity and NaN stays NaN (as torch's cast). */
export function float32ToFp16Bits(x: number): number {
  f32Scratch[0] = x;
  const bits = u32Scratch[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15; // rebias
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // subnormal fp16 (or zero): shift the full significand, then round
    if (e < -10) return sign;
    const sig = mant | 0x800000;
    const shift = 14 - e;
    return sign | roundShift(sig, shift);
  }
  // normal: keep 10 mantissa bits; a carry out of the mantissa correctly bumps the exponent
  return sign | ((e << 10) + roundShift(mant, 13));
}

/** `value >> shift` rounded to nearest, ties to even. */
function roundShift(value: number, shift: number): number {
  const kept = value >>> shift;
  const rest = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rest > half || (rest === half && (kept & 1) === 1)) return kept + 1;
  return kept;
}

/** The fp16 value nearest to x (ties to even), as a number. */
export function roundToFp16(x: number): number {
  return fp16ToFloat32Table()[float32ToFp16Bits(x)]!;
}

/** Exact float32 copy of little-endian tensor bytes of any supported dtype. */
export function toFloat32(bytes: Uint8Array, dtype: TensorDtype): Float32Array {
  const n = bytes.byteLength / DTYPE_BYTES[dtype];
  const aligned = alignedBuffer(bytes, DTYPE_BYTES[dtype]);
  const out = new Float32Array(n);
  switch (dtype) {
    case 'F32':
      out.set(new Float32Array(aligned.buffer, aligned.byteOffset, n));
      break;
    case 'F64':
      out.set(new Float64Array(aligned.buffer, aligned.byteOffset, n));
      break;
    case 'F16': {
      const table = fp16ToFloat32Table();
      const src = new Uint16Array(aligned.buffer, aligned.byteOffset, n);
      for (let i = 0; i < n; i++) out[i] = table[src[i]!]!;
      break;
    }
    case 'BF16': {
      // bf16 is the top half of a float32
      const src = new Uint16Array(aligned.buffer, aligned.byteOffset, n);
      const dst = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) dst[i] = src[i]! << 16;
      break;
    }
    case 'I64': {
      const src = new BigInt64Array(aligned.buffer, aligned.byteOffset, n);
      for (let i = 0; i < n; i++) out[i] = Number(src[i]!);
      break;
    }
    case 'I32':
      out.set(new Int32Array(aligned.buffer, aligned.byteOffset, n));
      break;
    case 'I16':
      out.set(new Int16Array(aligned.buffer, aligned.byteOffset, n));
      break;
    case 'I8':
      out.set(new Int8Array(aligned.buffer, aligned.byteOffset, n));
      break;
    case 'U8':
    case 'BOOL':
      out.set(aligned);
      break;
  }
  return out;
}

/** A view whose offset is a multiple of `align` (copies only when the input is misaligned). */
function alignedBuffer(bytes: Uint8Array, align: number): Uint8Array {
  if (bytes.byteOffset % align === 0) return bytes;
  return bytes.slice();
}

/** Reverse the byte order of every element in place (big-endian checkpoints). */
export function swapBytesInPlace(bytes: Uint8Array, elementSize: number): void {
  if (elementSize === 1) return;
  for (let i = 0; i + elementSize <= bytes.length; i += elementSize) {
    for (let a = i, b = i + elementSize - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}
