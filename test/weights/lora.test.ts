import { describe, expect, it } from 'vitest';
import { float32ToFp16Bits, fp16BitsToNumber, mergeMatrix, toFloat32 } from '../../src/weights/index.js';
import { mergeFp16Bits } from '../../src/weights/lora.js';
import { simdRowKernel } from '../../src/weights/lora-simd.js';

/** Random bf16-valued float32s (what the released adapter holds) from a fixed seed. */
function bf16Values(n: number, seed: number, scale: number): Float32Array {
  let x = seed;
  const bits = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const v = ((x >>> 8) / 2 ** 24 - 0.5) * scale;
    bits[i] = new Uint32Array(new Float32Array([v]).buffer)[0]! >>> 16;
  }
  return toFloat32(new Uint8Array(bits.buffer), 'BF16');
}

/** The reference formula, one element at a time: float32 sums in k order, then fp16(fp16(W) + s * delta). */
function reference(
  w: Float32Array,
  a: Float32Array,
  b: Float32Array,
  out: number,
  inp: number,
  r: number,
  s: number,
) {
  const res = new Float32Array(out * inp);
  const half = new Float32Array(1);
  for (let i = 0; i < out; i++) {
    for (let j = 0; j < inp; j++) {
      let acc = 0;
      for (let k = 0; k < r; k++) acc = Math.fround(acc + b[i * r + k]! * a[k * inp + j]!);
      half[0] = w[i * inp + j]! + Math.fround(acc * s);
      res[i * inp + j] = roundHalfEven(half[0]);
    }
  }
  return res;
}

/** fp16 rounding by search over the neighbours (independent of the code under test). */
function roundHalfEven(x: number): number {
  if (x === 0) return x;
  const e = Math.max(Math.floor(Math.log2(Math.abs(x))), -14);
  const ulp = 2 ** (e - 10);
  const lo = Math.floor(x / ulp) * ulp;
  const hi = lo + ulp;
  if (x - lo !== hi - x) return x - lo < hi - x ? lo : hi;
  return (lo / ulp) % 2 === 0 ? lo : hi;
}

describe('LoRA merge kernels', () => {
  it.each([
    [16, 344, 8], // SIMD path (multiples of 4)
    [12, 64, 64],
    [7, 16, 4], // one block of four rows, then three single rows
    [7, 30, 6], // scalar fallback (not multiples of 4)
  ])('fp16 merge of [%i, %i] with r %i equals the reference formula bit for bit', (out, inp, r) => {
    const w = bf16Values(out * inp, 1, 4);
    const a = bf16Values(r * inp, 2, 0.5);
    const b = bf16Values(out * r, 3, 0.5);
    const got = mergeMatrix(w, a, b, out, inp, r, 2, 'fp16');
    const want = reference(w.map(roundHalfEven), a, b, out, inp, r, 2);
    let mismatches = 0;
    for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i])) mismatches++;
    expect(mismatches).toBe(0);
  });

  it('the SIMD row kernel equals the scalar float32 loop', () => {
    const kernel = simdRowKernel();
    expect(kernel).not.toBeNull();
    const [out, inp, r] = [5, 4096, 64];
    const a = bf16Values(r * inp, 4, 1);
    const b = bf16Values(out * r, 5, 1);
    kernel!.load(a, b, inp, r);
    for (let i = 0; i < out; i++) {
      const row = kernel!.row(i);
      for (let j = 0; j < inp; j += 97) {
        let acc = 0;
        for (let k = 0; k < r; k++) acc = Math.fround(acc + b[i * r + k]! * a[k * inp + j]!);
        expect(row[j]).toBe(acc);
      }
    }
  });

  it('the SIMD epilogue rounds like float32ToFp16Bits over every finite fp16 W and results from subnormal to overflow', () => {
    const kernel = simdRowKernel()!;
    const inp = 8192;
    const r = 4;
    // W: every 8th finite fp16 bit pattern, both signs; B @ A spans tiny to huge values
    const w = new Uint16Array(inp).map((_, j) => {
      const h = (j * 8) & 0xffff;
      return (h & 0x7c00) === 0x7c00 ? h & 0x83ff : h;
    });
    const a = bf16Values(r * inp, 6, 1).map((v, i) => v * 2 ** ((i % 61) - 30));
    const b = Float32Array.from([1, -0.5, 0.25, 3]);
    kernel.load(a, b, inp, r);
    for (const scaling of [2, 2 ** -20, 2 ** 14, 0]) {
      const got = new Uint16Array(inp);
      kernel.merge(w, 1, scaling, got);
      const acc = kernel.row(0);
      const wrong: number[] = [];
      for (let j = 0; j < inp; j++) {
        const want = float32ToFp16Bits(Math.fround(fp16BitsToNumber(w[j]!) + Math.fround(acc[j]! * scaling)));
        if (got[j] !== want) wrong.push(j);
      }
      expect(wrong, `scaling ${scaling}`).toEqual([]);
    }
  });

  it('W holding inf or NaN takes the scalar path and keeps them', () => {
    const w = new Uint16Array(8).fill(0x3c00);
    w[1] = 0x7c00; // inf
    w[2] = 0x7e00; // NaN
    // r = 4 and 8 columns would take the SIMD path but for the inf/NaN
    const bits = mergeFp16Bits(w, new Float32Array(32).fill(1), new Float32Array([1, 0, 0, 0]), 1, 8, 4, 2);
    expect(fp16BitsToNumber(bits[0]!)).toBe(3);
    expect(bits[1]).toBe(0x7c00);
    expect(Number.isNaN(fp16BitsToNumber(bits[2]!))).toBe(true);
  });

  it('fp16 bits come out directly; overflow gives infinity and -0 + 0 gives +0, as in IEEE float32', () => {
    const w = new Uint16Array([0x7bff, 0x3c00, 0x0001, 0x8000]);
    const bits = mergeFp16Bits(w, new Float32Array([1]), new Float32Array([16, 0, 0, 0]), 4, 1, 1, 2);
    expect(Array.from(bits)).toEqual([0x7c00, 0x3c00, 0x0001, 0x0000]);
    expect(fp16BitsToNumber(bits[0]!)).toBe(Number.POSITIVE_INFINITY);
  });

  it('fp32 keeps the float64 sum rounded once', () => {
    const got = mergeMatrix(
      new Float32Array([1]),
      new Float32Array([2 ** -30, 3]),
      new Float32Array([1, 2 ** -40]),
      1,
      1,
      2,
      2,
      'fp32',
    );
    expect(got[0]).toBe(Math.fround(1 + 2 * (2 ** -30 + 3 * 2 ** -40)));
  });
});
