/**
 * The fp16 LoRA merge of one output row as two small WebAssembly SIMD functions, built here from
 * their opcodes so there is no binary blob to trust:
 * - `row`: acc = B[i, :] @ A in float32, summed in k order exactly like the scalar loop in lora.ts
 *   (and like a float32 GEMM): per lane acc = acc + b_k * a_k for k = 0, 1, ... Products of fp16/bf16
 *   factors are exact in float32, so the lanes match the scalar loop bit for bit.
 * - `epilogue`: out = fp16(float32(W) + acc * scaling), W given as fp16 bits, rounded to nearest even
 *   with the subnormal, overflow and NaN cases of float32ToFp16Bits, eight lanes at a time.
 * lora.ts uses them when r is a multiple of 4, the row length a multiple of 8 and W has no inf/NaN,
 * and its scalar code otherwise.
 */

// opcodes (WebAssembly core + SIMD proposal)
const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
const BLOCK = [0x02, 0x40];
const LOOP = [0x03, 0x40];
const END = 0x0b;
const BR = 0x0c;
const BR_IF = 0x0d;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const I32_CONST = 0x41;
const I32_GE_U = 0x4f;
const I32_ADD = 0x6a;
const I32_MUL = 0x6c;
const I32_SHL = 0x74;
const F32_LOAD = 0x2a;
const SIMD = 0xfd;
const V128_LOAD = [SIMD, 0x00];
const V128_STORE = [SIMD, 0x0b];
const V128_CONST = [SIMD, 0x0c];
const V128_LOAD16X4_U = [SIMD, 0x04];
const F32X4_SPLAT = [SIMD, 0x13];
const I32X4_NE = [SIMD, 0x38];
const I32X4_LT_S = [SIMD, 0x39];
const I32X4_GT_S = [SIMD, 0x3b];
const I32X4_GE_S = [SIMD, 0x3f];
const V128_AND = [SIMD, 0x4e];
const V128_OR = [SIMD, 0x50];
const V128_BITSELECT = [SIMD, 0x52];
const I16X8_NARROW_I32X4_U = [SIMD, 0x86, 0x01];
const I32X4_SHL = [SIMD, 0xab, 0x01];
const I32X4_SHR_U = [SIMD, 0xad, 0x01];
const I32X4_ADD = [SIMD, 0xae, 0x01];
const I32X4_SUB = [SIMD, 0xb1, 0x01];
const F32X4_ADD = [SIMD, 0xe4, 0x01];
const F32X4_SUB = [SIMD, 0xe5, 0x01];
const F32X4_MUL = [SIMD, 0xe6, 0x01];

// locals: parameters, then scratch
const [A, B, ACC, INP, R] = [0, 1, 2, 3, 4];
const [K, J, BK, P0, P1, P2, P3, STRIDE, Q] = [5, 6, 7, 8, 9, 10, 11, 12, 13];
const BV = [14, 15, 16, 17]; // splatted b_k .. b_k+3

const get = (i: number) => [LOCAL_GET, i];
const set = (i: number) => [LOCAL_SET, i];
const i32 = (v: number) => [I32_CONST, ...leb(v)];
const addTo = (dst: number, src: number, v: number[]) => [...get(src), ...v, I32_ADD, ...set(dst)];

function leb(v: number): number[] {
  const out: number[] = [];
  let x = v;
  for (;;) {
    const byte = x & 0x7f;
    x >>= 7;
    const done = (x === 0 && (byte & 0x40) === 0) || (x === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** `for (v = 0; v < limit; v += step) body`, as block { loop { if v >= limit break; body; v += step; continue } }. */
function forLoop(v: number, limit: number[], step: number, body: number[]): number[] {
  // biome-ignore format: one step per line
  return [
    ...i32(0), ...set(v),
    ...BLOCK, ...LOOP,
    ...get(v), ...limit, I32_GE_U, BR_IF, 1,
    ...body,
    ...get(v), ...i32(step), I32_ADD, ...set(v),
    BR, 0, END, END,
  ];
}

/** acc[j..j+4] += b_k * A[k][j..j+4] for the four k of this step, in k order. */
// biome-ignore format: one step per line
const accumulate = [
  ...get(ACC), ...get(J), I32_ADD, ...set(Q),
  ...get(Q), // the store address
  ...get(Q), ...V128_LOAD, 4, 0,
  ...[P0, P1, P2, P3].flatMap((p, n) => [...get(p), ...get(J), I32_ADD, ...V128_LOAD, 2, 0, ...get(BV[n]!), ...F32X4_MUL, ...F32X4_ADD]),
  ...V128_STORE, 4, 0,
];

// --- row(a, b, acc, inp, r): acc = b[0..r] @ A ---
// biome-ignore format: one step per line
const body = [
  ...get(INP), ...i32(2), I32_SHL, ...set(STRIDE), // row length in bytes
  ...forLoop(J, get(STRIDE), 16, [...get(ACC), ...get(J), I32_ADD, ...V128_CONST, ...new Array(16).fill(0), ...V128_STORE, 4, 0]),
  ...forLoop(K, get(R), 4, [
    ...get(B), ...get(K), ...i32(2), I32_SHL, I32_ADD, ...set(BK),
    ...BV.flatMap((v, n) => [...get(BK), F32_LOAD, 2, ...leb(4 * n), ...F32X4_SPLAT, ...set(v)]),
    ...get(A), ...get(K), ...get(STRIDE), I32_MUL, I32_ADD, ...set(P0),
    ...addTo(P1, P0, get(STRIDE)),
    ...addTo(P2, P1, get(STRIDE)),
    ...addTo(P3, P2, get(STRIDE)),
    ...forLoop(J, get(STRIDE), 16, accumulate),
  ]),
  END,
];

// --- rows4(a, b, acc, inp, r): acc[q] = b[q][0..r] @ A for four consecutive rows q of B ---
// Four rows share every load of A (A is read from cache once per four rows instead of once per row).
const [R4_K, R4_J, R4_BK, R4_P0, R4_P1, R4_STRIDE, R4_Q, R4_ROWB] = [5, 6, 7, 8, 9, 10, 11, 12];
const R4_BQ = [13, 14, 15, 16, 17, 18, 19, 20]; // b[q][k], b[q][k+1] splatted, for q = 0..3
const [R4_A0, R4_A1] = [21, 22];
const ROWS = 4;

/** acc[q][j..j+4] += b[q][k] * A[k][j..] then += b[q][k+1] * A[k+1][j..], for each of the four rows. */
// biome-ignore format: one step per line
const accumulate4 = [
  ...get(R4_P0), ...get(R4_J), I32_ADD, ...V128_LOAD, 2, 0, ...set(R4_A0),
  ...get(R4_P1), ...get(R4_J), I32_ADD, ...V128_LOAD, 2, 0, ...set(R4_A1),
  ...[0, 1, 2, 3].flatMap((q) => [
    ...get(ACC), ...get(R4_J), I32_ADD, ...get(R4_STRIDE), ...i32(q), I32_MUL, I32_ADD, ...set(R4_Q),
    ...get(R4_Q),
    ...get(R4_Q), ...V128_LOAD, 4, 0,
    ...get(R4_A0), ...get(R4_BQ[2 * q]!), ...F32X4_MUL, ...F32X4_ADD,
    ...get(R4_A1), ...get(R4_BQ[2 * q + 1]!), ...F32X4_MUL, ...F32X4_ADD,
    ...V128_STORE, 4, 0,
  ]),
];

// biome-ignore format: one step per line
const rows4Body = [
  ...get(INP), ...i32(2), I32_SHL, ...set(R4_STRIDE), // row length in bytes
  ...get(R), ...i32(2), I32_SHL, ...set(R4_ROWB), // row of B in bytes
  ...forLoop(R4_J, [...get(R4_STRIDE), ...i32(2), I32_SHL], 16, [
    ...get(ACC), ...get(R4_J), I32_ADD, ...V128_CONST, ...new Array(16).fill(0), ...V128_STORE, 4, 0,
  ]),
  ...forLoop(R4_K, get(R), 2, [
    ...get(B), ...get(R4_K), ...i32(2), I32_SHL, I32_ADD, ...set(R4_BK),
    ...R4_BQ.flatMap((v, n) => [
      ...get(R4_BK), ...get(R4_ROWB), ...i32(n >> 1), I32_MUL, I32_ADD,
      F32_LOAD, 2, ...leb(4 * (n & 1)), ...F32X4_SPLAT, ...set(v),
    ]),
    ...get(A), ...get(R4_K), ...get(R4_STRIDE), I32_MUL, I32_ADD, ...set(R4_P0),
    ...addTo(R4_P1, R4_P0, get(R4_STRIDE)),
    ...forLoop(R4_J, get(R4_STRIDE), 16, accumulate4),
  ]),
  END,
];

// --- epilogue(acc, w, out, inp, scale): out[j] = fp16(float32(w[j]) + acc[j] * scale) ---
const [E_ACC, E_W, E_OUT, E_INP, E_SCALE] = [0, 1, 2, 3, 4];
const [E_J, E_END] = [5, 6]; // byte offset into w / out (2 per element), and its end
const [E_S, E_X, E_A] = [7, 8, 9];
const NO_ALIGN = 0; // alignment hints of 1 byte: always valid

/** i32x4 constant with four equal lanes. */
function lanes(v: number): number[] {
  const b = new Uint8Array(16);
  const view = new DataView(b.buffer);
  for (let i = 0; i < 4; i++) view.setUint32(4 * i, v >>> 0, true);
  return [...V128_CONST, ...b];
}

const F16_TO_F32_REBIAS = 0x38000000; // (127 - 15) << 23: exponent bias difference
const F32_HALF = 0x3f000000; // adding 0.5 rounds |x| < 2^-14 to a multiple of 2^-24 (fp16 subnormals)
const F32_FP16_MIN_NORMAL = 0x38800000; // 2^-14
const F32_FP16_OVERFLOW = 0x47800000; // 2^16: rounds to infinity in fp16
const F32_INF = 0x7f800000;
const REBIAS_AND_HALF_ULP = (0xfff - 0x38000000) >>> 0; // exponent 127 -> 15, plus half an fp16 ulp - 1

/** Four fp16 results (in i32 lanes) for the four elements at byte offsets wOff (W) and accOff (acc). */
function fourLanes(wOff: number, accOff: number): number[] {
  // biome-ignore format: one step per line
  return [
    // float32(W): magnitude bits << 13, rebiased (normal W) or 2^-14 (1 + m) - 2^-14 (subnormal W: a
    // subtraction of normal floats, so no slow subnormal arithmetic), then the sign
    ...get(E_W), ...get(E_J), I32_ADD, ...V128_LOAD16X4_U, NO_ALIGN, ...leb(wOff), ...set(E_X),
    ...get(E_X), ...lanes(0x7fff), ...V128_AND, ...i32(13), ...I32X4_SHL, ...set(E_A),
    ...get(E_A), ...lanes(F16_TO_F32_REBIAS), ...I32X4_ADD,
    ...get(E_A), ...lanes(F32_FP16_MIN_NORMAL), ...I32X4_ADD, ...lanes(F32_FP16_MIN_NORMAL), ...F32X4_SUB,
    ...get(E_X), ...lanes(0x7c00), ...V128_AND, ...lanes(0), ...I32X4_NE, ...V128_BITSELECT,
    ...get(E_X), ...lanes(0x8000), ...V128_AND, ...i32(16), ...I32X4_SHL, ...V128_OR,
    // + acc * scale, each step rounded to float32
    ...get(E_ACC), ...get(E_J), ...i32(1), I32_SHL, I32_ADD, ...V128_LOAD, NO_ALIGN, ...leb(accOff),
    ...get(E_S), ...F32X4_MUL, ...F32X4_ADD, ...set(E_X),
    ...get(E_X), ...lanes(0x7fffffff), ...V128_AND, ...set(E_A),
    // normal: rebias, round half to even, drop 13 mantissa bits
    ...get(E_A), ...lanes(REBIAS_AND_HALF_ULP), ...I32X4_ADD,
    ...get(E_A), ...i32(13), ...I32X4_SHR_U, ...lanes(1), ...V128_AND, ...I32X4_ADD, ...i32(13), ...I32X4_SHR_U,
    // subnormal: float add of 0.5 rounds, its low bits are the fp16 bits
    ...get(E_A), ...lanes(F32_HALF), ...F32X4_ADD, ...lanes(F32_HALF), ...I32X4_SUB,
    ...get(E_A), ...lanes(F32_FP16_MIN_NORMAL), ...I32X4_GE_S, ...V128_BITSELECT,
    // overflow: infinity, NaN stays NaN
    ...lanes(0x7e00), ...lanes(0x7c00), ...get(E_A), ...lanes(F32_INF), ...I32X4_GT_S, ...V128_BITSELECT,
    ...get(E_A), ...lanes(F32_FP16_OVERFLOW), ...I32X4_LT_S, ...V128_BITSELECT,
    ...get(E_X), ...i32(16), ...I32X4_SHR_U, ...lanes(0x8000), ...V128_AND, ...V128_OR,
  ];
}

// biome-ignore format: one step per line
const epilogueBody = [
  ...get(E_SCALE), ...F32X4_SPLAT, ...set(E_S),
  ...get(E_INP), ...i32(1), I32_SHL, ...set(E_END),
  ...forLoop(E_J, get(E_END), 16, [
    ...get(E_OUT), ...get(E_J), I32_ADD,
    ...fourLanes(0, 0), ...fourLanes(8, 16), ...I16X8_NARROW_I32X4_U,
    ...V128_STORE, NO_ALIGN, 0,
  ]),
  END,
];

function section(id: number, content: number[]): number[] {
  return [id, ...leb(content.length), ...content];
}

const name = (s: string) => [s.length, ...[...s].map((c) => c.charCodeAt(0))];
const withLocals = (decls: number[], code: number[]) => {
  const f = [...decls, ...code];
  return [...leb(f.length), ...f];
};
const rowFunc = withLocals([2, 9, I32, 4, V128], body);
const epilogueFunc = withLocals([2, 2, I32, 3, V128], epilogueBody);
const rows4Func = withLocals([2, 8, I32, 10, V128], rows4Body);

// biome-ignore format: one section per line
const MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  ...section(1, [2, 0x60, 5, I32, I32, I32, I32, I32, 0, 0x60, 5, I32, I32, I32, I32, F32, 0]), // types
  ...section(3, [3, 0, 1, 0]), // row: type 0, epilogue: type 1, rows4: type 0
  ...section(5, [1, 0x00, 1]), // one memory, 1 page to start
  ...section(7, [4, ...name('row'), 0x00, 0, ...name('epilogue'), 0x00, 1, ...name('rows4'), 0x00, 2, ...name('mem'), 0x02, 0]),
  ...section(10, [3, ...rowFunc, ...epilogueFunc, ...rows4Func]),
]);

const PAGE = 65536;

export interface RowKernel {
  /** Copy A [r, inp] and B [out, r] in; then `row(i)` returns row i of B @ A (a view, valid until the next call). */
  load(a: Float32Array, b: Float32Array, inp: number, r: number): void;
  row(i: number): Float32Array;
  /** All rows merged: dst = fp16(float32(W) + (B @ A) * scaling) as fp16 bits (inp % 8 === 0, W finite). */
  merge(wBits: Uint16Array, out: number, scaling: number, dst: Uint16Array): void;
}

/** Byte alignment of the buffers inside the module's memory. */
const ALIGN = 16;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

let compiled: WebAssembly.Module | null | undefined;

/** A SIMD row kernel, or null where WebAssembly SIMD is unavailable. */
export function simdRowKernel(): RowKernel | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(MODULE);
    } catch {
      compiled = null;
    }
  }
  if (!compiled) return null;
  const instance = new WebAssembly.Instance(compiled);
  const memory = instance.exports.mem as WebAssembly.Memory;
  type Rows = (a: number, b: number, acc: number, inp: number, r: number) => void;
  const rowFn = instance.exports.row as Rows;
  const rows4Fn = instance.exports.rows4 as Rows;
  const epilogueFn = instance.exports.epilogue as (
    acc: number,
    w: number,
    o: number,
    n: number,
    s: number,
  ) => void;
  let inp = 0;
  let r = 0;
  let bBase = 0;
  let accBase = 0;
  let wBase = 0;
  let outBase = 0;
  /** Rows i .. i + n of B @ A (n = 1 or 4) merged with W into dst. */
  const mergeRows = (i: number, n: number, wBits: Uint16Array, scaling: number, dst: Uint16Array) => {
    (n === ROWS ? rows4Fn : rowFn)(0, bBase + i * r * 4, accBase, inp, r);
    new Uint16Array(memory.buffer, wBase, n * inp).set(wBits.subarray(i * inp, (i + n) * inp));
    for (let q = 0; q < n; q++)
      epilogueFn(accBase + q * inp * 4, wBase + q * inp * 2, outBase + q * inp * 2, inp, scaling);
    dst.set(new Uint16Array(memory.buffer, outBase, n * inp), i * inp);
  };
  return {
    load(a, b, rowLength, rank) {
      inp = rowLength;
      r = rank;
      bBase = align(a.byteLength);
      accBase = align(bBase + b.byteLength);
      wBase = align(accBase + ROWS * inp * 4);
      outBase = align(wBase + ROWS * inp * 2);
      const need = outBase + ROWS * inp * 2;
      if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
      new Float32Array(memory.buffer, 0, a.length).set(a);
      new Float32Array(memory.buffer, bBase, b.length).set(b);
    },
    row(i) {
      rowFn(0, bBase + i * r * 4, accBase, inp, r);
      return new Float32Array(memory.buffer, accBase, inp);
    },
    merge(wBits, out, scaling, dst) {
      let i = 0;
      for (; i + ROWS <= out; i += ROWS) mergeRows(i, ROWS, wBits, scaling, dst);
      for (; i < out; i++) mergeRows(i, 1, wBits, scaling, dst);
    },
  };
}
