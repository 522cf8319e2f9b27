/**
 * LoRA merge: W' = W + (alpha / r) * B @ A, with A [r, in] and B [out, r], done per tensor when the
 * tensor is read (never the whole model at once).
 *
 * Two roundings are offered. 'fp16' reproduces LLaVA-Rad's builder, which merges into fp16 storage:
 * torch computes B @ A in float32, scales it, adds the fp16 W promoted to float32 and rounds the sum
 * to fp16. 'fp32' keeps float32(W + s * B @ A) computed in float64.
 *
 * Speed: the fp16 merge runs in WebAssembly SIMD (lora-simd.ts), about 0.13 s per 4096x4096 matrix
 * with r = 64 on one core here (`npm run bench -- weights`); the fp32 merge and odd shapes use the
 * scalar loops below.
 */
import { inputError } from '../errors.js';
import { float32ToFp16Bits, fp16ToFloat32Table, toFloat32 } from './dtype.js';
import { simdRowKernel } from './lora-simd.js';
import { EntrySource, entriesOf, type TensorEntry } from './source.js';
import type { LoraConfig, TensorSource } from './types.js';

export type MergePrecision = 'fp16' | 'fp32';

/** f32x4 lanes of the SIMD row kernel; its fp16 epilogue packs eight lanes at a time. */
const SIMD_WIDTH = 4;
const SIMD_ROW_MULTIPLE = 8;
const FP16_EXPONENT = 0x7c00;

/** No inf or NaN among fp16 bits (the SIMD epilogue's upcast assumes finite W). */
function allFinite(bits: Uint16Array): boolean {
  for (let i = 0; i < bits.length; i++) if ((bits[i]! & FP16_EXPONENT) === FP16_EXPONENT) return false;
  return true;
}

/** PEFT's prefix on the base model's names, and the suffixes of the two factors. */
const PEFT_PREFIX = 'base_model.model.';
const LORA_A = '.lora_A.weight';
const LORA_B = '.lora_B.weight';
/** PEFT >= 0.5 may keep the adapter name inside the key (`lora_A.default.weight`). */
const ADAPTER_NAME = /\.lora_([AB])\.[^.]+\.weight$/;

interface LoraPair {
  a?: string;
  b?: string;
}

/** Base tensor name -> adapter tensor names of its two factors. */
export function loraPairs(adapter: TensorSource): Map<string, LoraPair> {
  const pairs = new Map<string, LoraPair>();
  for (const { name } of adapter.list()) {
    const plain = name.replace(ADAPTER_NAME, '.lora_$1.weight');
    const isA = plain.endsWith(LORA_A);
    if (!isA && !plain.endsWith(LORA_B)) {
      throw inputError('weights.bad_adapter', 'adapter tensor is neither lora_A nor lora_B', {
        file: adapter.origin,
        field: name,
      });
    }
    const stem = plain.slice(0, -LORA_A.length);
    const base = `${stem.startsWith(PEFT_PREFIX) ? stem.slice(PEFT_PREFIX.length) : stem}.weight`;
    const pair = pairs.get(base) ?? {};
    if (isA) pair.a = name;
    else pair.b = name;
    pairs.set(base, pair);
  }
  return pairs;
}

/**
 * The base model with every LoRA pair merged. Shapes are checked here, when the view is built, so a
 * mismatched adapter fails at load time with the tensor named.
 */
export function mergeLora(
  base: TensorSource,
  adapter: TensorSource,
  lora: LoraConfig,
  precision: MergePrecision = 'fp16',
): TensorSource {
  const scaling = lora.alpha / lora.r;
  const entries = entriesOf(base);
  for (const [name, pair] of loraPairs(adapter)) {
    entries.set(name, mergedEntry(base, adapter, name, pair, lora.r, scaling, precision));
  }
  return new EntrySource(`${base.origin} + ${adapter.origin}`, entries, async () => {
    await Promise.all([base.close(), adapter.close()]);
  });
}

function mergedEntry(
  base: TensorSource,
  adapter: TensorSource,
  name: string,
  pair: LoraPair,
  r: number,
  scaling: number,
  precision: MergePrecision,
): TensorEntry {
  const mismatch = (field: string, expected: string, found: string) =>
    inputError('weights.lora_mismatch', 'LoRA factor does not fit the base weight', {
      file: adapter.origin,
      field,
      expected,
      found,
    });
  if (!pair.a || !pair.b) {
    throw inputError('weights.bad_adapter', `LoRA factor ${pair.a ? 'B' : 'A'} missing`, {
      file: adapter.origin,
      field: pair.a ?? pair.b,
    });
  }
  if (!base.has(name)) {
    throw inputError('weights.lora_mismatch', 'LoRA targets a tensor the base model does not have', {
      file: adapter.origin,
      field: pair.a,
      expected: `${name} in ${base.origin}`,
    });
  }
  const w = base.info(name);
  const a = adapter.info(pair.a);
  const b = adapter.info(pair.b);
  if (w.shape.length !== 2) throw mismatch(name, 'a matrix', `[${w.shape}]`);
  const [out, inp] = w.shape as [number, number];
  if (a.shape.length !== 2 || a.shape[0] !== r || a.shape[1] !== inp) {
    throw mismatch(pair.a, `[${r}, ${inp}] (r from adapter_config.json, in from ${name})`, `[${a.shape}]`);
  }
  if (b.shape.length !== 2 || b.shape[0] !== out || b.shape[1] !== r) {
    throw mismatch(pair.b, `[${out}, ${r}] (out from ${name}, r from adapter_config.json)`, `[${b.shape}]`);
  }
  const shape = [out, inp];
  if (precision === 'fp32') {
    return {
      info: { name, dtype: 'F32', shape },
      read: async () => {
        const [wv, av, bv] = await Promise.all([
          base.readFloat32(name),
          adapter.readFloat32(pair.a!),
          adapter.readFloat32(pair.b!),
        ]);
        return new Uint8Array(mergeMatrix(wv, av, bv, out, inp, r, scaling, 'fp32').buffer);
      },
    };
  }
  return {
    info: { name, dtype: 'F16', shape },
    read: async () => {
      const [wBits, av, bv] = await Promise.all([
        fp16BitsOf(base, name),
        adapter.readFloat32(pair.a!),
        adapter.readFloat32(pair.b!),
      ]);
      return new Uint8Array(mergeFp16Bits(wBits, av, bv, out, inp, r, scaling).buffer);
    },
  };
}

/** W as fp16 bits: as stored when the base is fp16 (the released Vicuna), else rounded (the builder loads in fp16). */
async function fp16BitsOf(source: TensorSource, name: string): Promise<Uint16Array> {
  if (source.info(name).dtype === 'F16') {
    const b = await source.readBytes(name);
    return b.byteOffset % 2 === 0
      ? new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2)
      : new Uint16Array(b.slice().buffer);
  }
  const v = await source.readFloat32(name);
  const out = new Uint16Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = float32ToFp16Bits(v[i]!);
  return out;
}

/**
 * W [out, in] + scaling * B [out, r] @ A [r, in], one output row at a time; the r rows of A stay in
 * cache while the row of B @ A is accumulated in a row buffer.
 * 'fp16' accumulates in float32 in k order (as torch's CPU matmul does; products of 16-bit factors
 * are exact in float32, so only the summation order matters, and this is the reference's order);
 * 'fp32' accumulates in float64 for the exact sum.
 */
export function mergeMatrix(
  w: Float32Array,
  a: Float32Array,
  b: Float32Array,
  out: number,
  inp: number,
  r: number,
  scaling: number,
  precision: MergePrecision,
): Float32Array {
  if (precision === 'fp16') {
    const wBits = new Uint16Array(w.length);
    for (let i = 0; i < w.length; i++) wBits[i] = float32ToFp16Bits(w[i]!);
    const bits = mergeFp16Bits(wBits, a, b, out, inp, r, scaling);
    return toFloat32(new Uint8Array(bits.buffer), 'F16');
  }
  const result = new Float32Array(out * inp);
  const acc = new Float64Array(inp);
  for (let i = 0; i < out; i++) {
    rowF64(acc, a, b, i * r, inp, r);
    for (let j = 0, o = i * inp; j < inp; j++, o++) result[o] = w[o]! + scaling * acc[j]!;
  }
  return result;
}

/**
 * The fp16 merge on fp16 bits: fp16(float32(W) + float32(float32(B@A) * scaling)), where B@A is
 * summed in float32 in k order and the in-place add of torch rounds the float32 sum to fp16.
 */
export function mergeFp16Bits(
  wBits: Uint16Array,
  a: Float32Array,
  b: Float32Array,
  out: number,
  inp: number,
  r: number,
  scaling: number,
): Uint16Array {
  const result = new Uint16Array(out * inp);
  const simd =
    r % SIMD_WIDTH === 0 && inp % SIMD_ROW_MULTIPLE === 0 && allFinite(wBits) ? simdRowKernel() : null;
  if (simd) {
    simd.load(a, b, inp, r);
    simd.merge(wBits, out, scaling, result);
    return result;
  }
  const half = fp16ToFloat32Table();
  const rowOf = rowKernel(a, b, inp, r);
  const sum = new Float32Array(inp);
  const sumBits = new Uint32Array(sum.buffer);
  for (let i = 0; i < out; i++) {
    const acc = rowOf(i);
    const o = i * inp;
    for (let j = 0; j < inp; j++) sum[j] = half[wBits[o + j]!]! + Math.fround(acc[j]! * scaling);
    for (let j = 0; j < inp; j++) result[o + j] = fp16BitsFast(sumBits[j]!, sum, j);
  }
  return result;
}

/** fp16 exponent range of float32 exponents 113..142 (normal fp16 numbers). */
const F32_EXP_FP16_MIN = 113;
const F32_EXP_FP16_MAX = 142;

/**
 * float32 bits -> fp16 bits, round to nearest even, inline for normal fp16 results (nearly all
 * weights); subnormals, overflow and NaN go through float32ToFp16Bits.
 */
function fp16BitsFast(x: number, values: Float32Array, j: number): number {
  const e = (x >>> 23) & 0xff;
  if (e < F32_EXP_FP16_MIN || e > F32_EXP_FP16_MAX) return float32ToFp16Bits(values[j]!);
  const mant = x & 0x7fffff;
  const rest = mant & 0x1fff;
  let h = ((e - 112) << 10) | (mant >>> 13);
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++; // a carry correctly bumps the exponent
  return ((x >>> 16) & 0x8000) | h;
}

/** Row i of B @ A in float32, k order: the SIMD kernel where shapes allow, the scalar loop otherwise. */
function rowKernel(a: Float32Array, b: Float32Array, inp: number, r: number): (i: number) => Float32Array {
  const simd = r % SIMD_WIDTH === 0 && inp % SIMD_WIDTH === 0 ? simdRowKernel() : null;
  if (simd) {
    simd.load(a, b, inp, r);
    return (i) => simd.row(i);
  }
  const acc = new Float32Array(inp);
  return (i) => {
    rowF32(acc, a, b, i * r, inp, r);
    return acc;
  };
}

/** acc = row of B @ A, float32 sums in k order (each store to the Float32Array rounds the partial sum). */
function rowF32(
  acc: Float32Array,
  a: Float32Array,
  b: Float32Array,
  bRow: number,
  inp: number,
  r: number,
): void {
  acc.fill(0);
  for (let k = 0; k < r; k++) {
    const bk = b[bRow + k]!;
    const ak = k * inp;
    for (let j = 0; j < inp; j++) acc[j] = acc[j]! + bk * a[ak + j]!;
  }
}

/** acc = row of B @ A accumulated in float64. */
function rowF64(
  acc: Float64Array,
  a: Float32Array,
  b: Float32Array,
  bRow: number,
  inp: number,
  r: number,
): void {
  acc.fill(0);
  let k = 0;
  for (; k + 4 <= r; k += 4) {
    const b0 = b[bRow + k]!;
    const b1 = b[bRow + k + 1]!;
    const b2 = b[bRow + k + 2]!;
    const b3 = b[bRow + k + 3]!;
    const a0 = k * inp;
    const a1 = a0 + inp;
    const a2 = a1 + inp;
    const a3 = a2 + inp;
    for (let j = 0; j < inp; j++) {
      acc[j] = acc[j]! + b0 * a[a0 + j]! + b1 * a[a1 + j]! + b2 * a[a2 + j]! + b3 * a[a3 + j]!;
    }
  }
  for (; k < r; k++) {
    const bk = b[bRow + k]!;
    const ak = k * inp;
    for (let j = 0; j < inp; j++) acc[j] = acc[j]! + bk * a[ak + j]!;
  }
}
