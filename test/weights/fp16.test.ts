import { describe, expect, it } from 'vitest';
import { float32ToFp16Bits, fp16BitsToNumber, roundToFp16, toFloat32 } from '../../src/weights/index.js';

describe('fp16', () => {
  it('upcasts all 65536 bit patterns exactly and rounds each back to itself', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const f = toFloat32(new Uint8Array(all.buffer), 'F16');
    const wrong: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const x = f[h]!;
      const isNaN16 = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (isNaN16) {
        if (!Number.isNaN(x) || !Number.isNaN(fp16BitsToNumber(float32ToFp16Bits(x)))) wrong.push(h);
      } else if (!Object.is(x, fp16BitsToNumber(h)) || float32ToFp16Bits(x) !== h) {
        wrong.push(h);
      }
    }
    expect(wrong).toEqual([]);
    expect(f[0x3c00]).toBe(1);
    expect(f[0x0001]).toBe(2 ** -24);
    expect(f[0x7bff]).toBe(65504);
  });

  it('rounds float32 to nearest, ties to even, including subnormals and overflow', () => {
    // between 1 and the next fp16 (1 + 2^-10): the midpoint goes to the even one (1)
    expect(roundToFp16(1 + 2 ** -11)).toBe(1);
    expect(roundToFp16(1 + 3 * 2 ** -11)).toBe(1 + 2 * 2 ** -10); // tie to even upward
    expect(roundToFp16(1 + 2 ** -11 + 2 ** -20)).toBe(1 + 2 ** -10);
    expect(roundToFp16(2 ** -25)).toBe(0); // half the smallest subnormal: tie to even (0)
    expect(roundToFp16(3 * 2 ** -25)).toBe(2 * 2 ** -24);
    expect(roundToFp16(65520)).toBe(Number.POSITIVE_INFINITY); // the midpoint above the max rounds up
    expect(roundToFp16(65519)).toBe(65504);
    expect(roundToFp16(-0.1)).toBe(-0.0999755859375);
    // exhaustive on a dense band: every float32 in [1, 2) with the low 8 bits swept
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    const wrong: number[] = [];
    for (let m = 0; m < 1 << 15; m++) {
      u[0] = 0x3f800000 | (m << 8);
      const x = f[0]!;
      const lo = Math.floor((x - 1) * 1024) / 1024 + 1;
      const hi = lo + 2 ** -10;
      const want = x - lo < hi - x ? lo : x - lo > hi - x ? hi : ((lo - 1) * 1024) % 2 === 0 ? lo : hi;
      if (roundToFp16(x) !== want) wrong.push(x);
    }
    expect(wrong).toEqual([]);
  });
});
