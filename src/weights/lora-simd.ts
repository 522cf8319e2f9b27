/**
 * The inner LoRA kernel, acc = B[i, :] @ A, as a small WebAssembly SIMD function (f32x4), built
 * here from its opcodes so there is no binary blob to trust. It sums in float32 in k order exactly
 * like the scalar loop in lora.ts (and like a float32 GEMM): per lane, acc = acc + b_k * a_k for
 * k = 0, 1, ... The products of fp16/bf16 factors are exact in float32, so lanes match the scalar
 * loop bit for bit. Used when r and the row length are multiples of 4; lora.ts falls back otherwise.
 */

// opcodes (WebAssembly core + SIMD proposal)
const I32 = 0x7f;
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
const F32X4_SPLAT = [SIMD, 0x13];
const F32X4_ADD = [SIMD, 0xe4, 0x01];
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
  return [
    ...i32(0),
    ...set(v),
    ...BLOCK,
    ...LOOP,
    ...get(v),
    ...limit,
    I32_GE_U,
    BR_IF,
    1,
    ...body,
    ...get(v),
    ...i32(step),
    I32_ADD,
    ...set(v),
    BR,
    0,
    END,
    END,
  ];
}

/** acc[j..j+4] += b_k * A[k][j..j+4] for the four k of this step, in k order. */
const accumulate = [
  ...get(ACC),
  ...get(J),
  I32_ADD,
  ...set(Q),
  ...get(Q), // store address
  ...get(Q),
  ...V128_LOAD,
  4,
  0,
  ...[P0, P1, P2, P3].flatMap((p, n) => [
    ...get(p),
    ...get(J),
    I32_ADD,
    ...V128_LOAD,
    2,
    0,
    ...get(BV[n]!),
    ...F32X4_MUL,
    ...F32X4_ADD,
  ]),
  ...V128_STORE,
  4,
  0,
];

const body = [
  ...get(INP),
  ...i32(2),
  I32_SHL,
  ...set(STRIDE), // row length in bytes
  // acc = 0
  ...forLoop(J, get(STRIDE), 16, [
    ...get(ACC),
    ...get(J),
    I32_ADD,
    ...V128_CONST,
    ...new Array(16).fill(0),
    ...V128_STORE,
    4,
    0,
  ]),
  ...forLoop(K, get(R), 4, [
    ...get(B),
    ...get(K),
    ...i32(2),
    I32_SHL,
    I32_ADD,
    ...set(BK),
    ...BV.flatMap((v, n) => [...get(BK), F32_LOAD, 2, ...leb(4 * n), ...F32X4_SPLAT, ...set(v)]),
    ...get(A),
    ...get(K),
    ...get(STRIDE),
    I32_MUL,
    I32_ADD,
    ...set(P0),
    ...addTo(P1, P0, get(STRIDE)),
    ...addTo(P2, P1, get(STRIDE)),
    ...addTo(P3, P2, get(STRIDE)),
    ...forLoop(J, get(STRIDE), 16, accumulate),
  ]),
  END,
];

function section(id: number, content: number[]): number[] {
  return [id, ...leb(content.length), ...content];
}

const name = (s: string) => [s.length, ...[...s].map((c) => c.charCodeAt(0))];
const localDecls = [2, 9, I32, 4, V128];
const func = [...localDecls, ...body];

const MODULE = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00,
  ...section(1, [1, 0x60, 5, I32, I32, I32, I32, I32, 0]), // type: (i32 x5) -> ()
  ...section(3, [1, 0]), // one function of type 0
  ...section(5, [1, 0x00, 1]), // one memory, 1 page to start
  ...section(7, [2, ...name('row'), 0x00, 0, ...name('mem'), 0x02, 0]),
  ...section(10, [1, ...leb(func.length), ...func]),
]);

const PAGE = 65536;

export interface RowKernel {
  /** Copy A [r, inp] and B [out, r] in; then `row(i)` returns row i of B @ A (a view, valid until the next call). */
  load(a: Float32Array, b: Float32Array, inp: number, r: number): void;
  row(i: number): Float32Array;
}

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
  const rowFn = instance.exports.row as (a: number, b: number, acc: number, inp: number, r: number) => void;
  let inp = 0;
  let r = 0;
  let bBase = 0;
  let accBase = 0;
  return {
    load(a, b, rowLength, rank) {
      inp = rowLength;
      r = rank;
      bBase = a.byteLength;
      accBase = bBase + b.byteLength;
      const need = accBase + inp * 4;
      if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
      new Float32Array(memory.buffer, 0, a.length).set(a);
      new Float32Array(memory.buffer, bBase, b.length).set(b);
    },
    row(i) {
      rowFn(0, bBase + i * r * 4, accBase, inp, r);
      return new Float32Array(memory.buffer, accBase, inp);
    },
  };
}
