/**
 * ggml's reference block quantisers for the formats the llava bench writes (ggml-quants.c, `quantize_row_*_ref`):
 *   Q4_0: blocks of 32, fp16 scale d = m / -8 where m is the value of largest magnitude (sign kept);
 *         q = min(15, trunc(x / d + 8.5)); byte j holds element j (low nibble) and j + 16 (high nibble). 18 bytes.
 *   Q8_0: blocks of 32, fp16 scale d = max|x| / 127; q = round(x / d) as int8. 34 bytes.
 */
import { float16Bits } from '../../src/onnx/index.js';

export const QK = 32;
export type GgmlQuant = 'Q4_0' | 'Q8_0';
export const BLOCK_BYTES: Record<GgmlQuant, number> = { Q4_0: 2 + QK / 2, Q8_0: 2 + QK };

export function quantizedBytes(type: GgmlQuant, count: number): number {
  if (count % QK !== 0) throw new Error(`${type}: ${count} values are not whole blocks of ${QK}`);
  return (count / QK) * BLOCK_BYTES[type];
}

export function quantizeGgml(type: GgmlQuant, x: Float32Array): Uint8Array {
  const out = new Uint8Array(quantizedBytes(type, x.length));
  const view = new DataView(out.buffer);
  const blockBytes = BLOCK_BYTES[type];
  for (let b = 0, o = 0; b < x.length; b += QK, o += blockBytes) {
    if (type === 'Q4_0') q4Block(x, b, out, view, o);
    else q8Block(x, b, out, view, o);
  }
  return out;
}

function q4Block(x: Float32Array, at: number, out: Uint8Array, view: DataView, o: number): void {
  let amax = 0;
  let max = 0;
  for (let i = 0; i < QK; i++) {
    const v = x[at + i]!;
    if (Math.abs(v) > amax) {
      amax = Math.abs(v);
      max = v;
    }
  }
  const d = max / -8;
  const id = d ? 1 / d : 0;
  view.setUint16(o, float16Bits(d), true);
  const half = QK / 2;
  for (let j = 0; j < half; j++) {
    const lo = Math.min(15, Math.trunc(x[at + j]! * id + 8.5));
    const hi = Math.min(15, Math.trunc(x[at + j + half]! * id + 8.5));
    out[o + 2 + j] = lo | (hi << 4);
  }
}

function q8Block(x: Float32Array, at: number, out: Uint8Array, view: DataView, o: number): void {
  let amax = 0;
  for (let i = 0; i < QK; i++) amax = Math.max(amax, Math.abs(x[at + i]!));
  const d = amax / 127;
  const id = d ? 1 / d : 0;
  view.setUint16(o, float16Bits(d), true);
  for (let i = 0; i < QK; i++) out[o + 2 + i] = Math.round(x[at + i]! * id) & 0xff;
}
