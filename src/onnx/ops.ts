/**
 * Typed op helpers: one function per operator (or small composite), named after the math.
 * Each takes the Scope the node lives in and returns the output name(s).
 * Standard ops are ONNX opset 21; contrib ops are ONNX Runtime's `com.microsoft` domain.
 */
import type { Graph, Scope } from './graph.js';
import type { OnnxDtype } from './proto.js';
import { OnnxDataType } from './proto.js';
import {
  type BlockQuantized,
  DEFAULT_BLOCK_SIZE,
  DEFAULT_INT4_BLOCK_SIZE,
  quantizeBlockwise,
} from './quantize.js';
import { bytesOf, float32Bytes, int64Bytes, toFloat16, transpose2d } from './tensor.js';

export const MS = 'com.microsoft';

// ---- constants (shared per graph, named by value) ----

const constCache = new WeakMap<Graph, Map<string, string>>();

function constant(s: Scope, dtype: OnnxDtype, dims: number[], values: readonly number[]): string {
  let cache = constCache.get(s.graph);
  if (!cache) {
    cache = new Map();
    constCache.set(s.graph, cache);
  }
  const key = `${dtype}[${dims}]=${values.join(',')}`;
  let name = cache.get(key);
  if (!name) {
    const bytes = dtype === 'int64' ? int64Bytes(values) : float32Bytes(values);
    name = s.graph.initializer(`/const/${dtype}_${cache.size}`, dtype, dims, bytes);
    cache.set(key, name);
  }
  return name;
}

export const scalarF32 = (s: Scope, v: number) => constant(s, 'float32', [], [v]);
export const ints = (s: Scope, v: readonly number[]) => constant(s, 'int64', [v.length], v);

// ---- elementwise ----

export const add = (s: Scope, a: string, b: string) => s.op('Add', [a, b]);
export const sub = (s: Scope, a: string, b: string) => s.op('Sub', [a, b]);
export const mul = (s: Scope, a: string, b: string) => s.op('Mul', [a, b]);
export const div = (s: Scope, a: string, b: string) => s.op('Div', [a, b]);
export const sigmoid = (s: Scope, x: string) => s.op('Sigmoid', [x]);
export const erf = (s: Scope, x: string) => s.op('Erf', [x]);
export const cast = (s: Scope, x: string, to: OnnxDtype) =>
  s.op('Cast', [x], { attrs: { to: OnnxDataType[to] } });

/** Exact GELU: x * 0.5 * (1 + erf(x / sqrt 2)). */
export function gelu(s: Scope, x: string): string {
  const inner = erf(s, div(s, x, scalarF32(s, Math.SQRT2)));
  return mul(s, mul(s, x, scalarF32(s, 0.5)), add(s, inner, scalarF32(s, 1)));
}

/** SiLU: x * sigmoid(x). */
export const silu = (s: Scope, x: string) => mul(s, x, sigmoid(s, x));

// ---- shape ----

export const reshape = (s: Scope, x: string, shape: number[]) => s.op('Reshape', [x, ints(s, shape)]);
export const transpose = (s: Scope, x: string, perm: number[]) => s.op('Transpose', [x], { attrs: { perm } });
export const concat = (s: Scope, xs: string[], axis: number) => s.op('Concat', xs, { attrs: { axis } });
export const gather = (s: Scope, data: string, indices: string, axis = 0) =>
  s.op('Gather', [data, indices], { attrs: { axis } });
export const slice = (s: Scope, x: string, starts: number[], ends: number[], axes: number[]) =>
  s.op('Slice', [x, ints(s, starts), ints(s, ends), ints(s, axes)]);
/** x[starts:ends] along `axes`, with the bounds computed in the graph (int64 [n] each). */
export const sliceDynamic = (s: Scope, x: string, starts: string, ends: string, axes: string) =>
  s.op('Slice', [x, starts, ends, axes]);
/** shape(x)[start:end] as int64 [end - start]. */
export const shapeRange = (s: Scope, x: string, start: number, end: number) =>
  s.op('Shape', [x], { attrs: { start, end } });
export const split = (s: Scope, x: string, sizes: number[], axis: number) =>
  s.ops('Split', [x, ints(s, sizes)], { attrs: { axis }, outputs: sizes.length });

// ---- linear algebra ----

export const matmul = (s: Scope, a: string, b: string) => s.op('MatMul', [a, b]);
export const softmax = (s: Scope, x: string, axis = -1) => s.op('Softmax', [x], { attrs: { axis } });
/** Integer product (int32 out). uint8 x int8 without zero points is MLAS's fast path (VNNI). */
export const matMulInteger = (s: Scope, a: string, b: string) => s.op('MatMulInteger', [a, b]);

// ---- reductions and 8-bit quantisation ----

export const reduceMax = (s: Scope, x: string, axes: number[]) =>
  s.op('ReduceMax', [x, ints(s, axes)], { attrs: { keepdims: 1 } });
export const reduceSum = (s: Scope, x: string, axes: number[]) =>
  s.op('ReduceSum', [x, ints(s, axes)], { attrs: { keepdims: 1 } });

/**
 * Symmetric 8-bit quantisation with one scale per slice along `axis`: scale = max|x| / 127 (a zero slice keeps a
 * tiny scale, so it quantises to zeros, not NaN), q = round(x / scale) in [-127, 127]. `dtype` 'uint8' stores
 * q + 128. Returns [q, scale] (scale keeps `axis` as size 1).
 */
export function quantize8(s: Scope, x: string, axis: number, dtype: 'int8' | 'uint8'): [string, string] {
  const amax = reduceMax(s, s.op('Abs', [x]), [axis]);
  const scale = s.op('Max', [div(s, amax, scalarF32(s, 127)), scalarF32(s, 1e-30)]);
  let q = s.op('Round', [div(s, x, scale)]);
  if (dtype === 'uint8') q = add(s, q, scalarF32(s, 128));
  return [cast(s, q, dtype), scale];
}

export function conv(
  s: Scope,
  x: string,
  w: string,
  b: string | null,
  opts: { kernel: number[]; strides: number[] },
): string {
  return s.op('Conv', [x, w, b], { attrs: { kernel_shape: opts.kernel, strides: opts.strides } });
}

// ---- normalisation ----

export function layerNorm(s: Scope, x: string, scale: string, bias: string, eps: number): string {
  return s.op('LayerNormalization', [x, scale, bias], { attrs: { axis: -1, epsilon: { float: eps } } });
}

/** RMSNorm: x / sqrt(mean(x^2) + eps) * scale (ONNX Runtime's SimplifiedLayerNormalization, fp32 statistics). */
export function rmsNorm(s: Scope, x: string, scale: string, eps: number): string {
  return s.op('SimplifiedLayerNormalization', [x, scale], {
    attrs: { axis: -1, epsilon: { float: eps }, stash_type: 1 },
  });
}

/** sum = x + skip; returns [rmsNorm(sum), sum] in one contrib kernel. */
export function skipRmsNorm(s: Scope, x: string, skip: string, scale: string, eps: number): [string, string] {
  const outs = s.ops('SkipSimplifiedLayerNormalization', [x, skip, scale], {
    domain: MS,
    attrs: { epsilon: { float: eps } },
    outputs: 4,
  });
  return [outs[0]!, outs[3]!];
}

// ---- attention (contrib) ----

export interface GqaInputs {
  /** [B, S, (heads + 2 kvHeads) * headDim] when key/value are null (packed), else [B, S, heads * headDim]. */
  query: string;
  key: string | null;
  value: string | null;
  /** [B, kvHeads, capacity, headDim]; when bound to the same buffers as the outputs the cache is updated in place. */
  pastKey: string;
  pastValue: string;
  /** int32 [B]: total length - 1. */
  seqlensK: string;
  /** int32 scalar: total length. */
  totalSequenceLength: string;
  /** [maxPositions, rotaryDim / 2]; RoPE is applied inside the op when given. */
  cos: string | null;
  sin: string | null;
}

/** Causal attention with a KV cache (and RoPE in the non-interleaved, rotate_half convention). */
export function groupQueryAttention(
  s: Scope,
  i: GqaInputs,
  heads: number,
  kvHeads: number,
): { output: string; presentKey: string; presentValue: string } {
  const rotary = i.cos !== null;
  const [output, presentKey, presentValue] = s.ops(
    'GroupQueryAttention',
    [i.query, i.key, i.value, i.pastKey, i.pastValue, i.seqlensK, i.totalSequenceLength, i.cos, i.sin],
    {
      domain: MS,
      attrs: { num_heads: heads, kv_num_heads: kvHeads, do_rotary: rotary ? 1 : 0, rotary_interleaved: 0 },
      outputs: 3,
    },
  );
  return { output: output!, presentKey: presentKey!, presentValue: presentValue! };
}

/** RoPE on [B, S, heads * headDim] at `positions` (int64 [B, S]), rotate_half convention. */
export function rotaryEmbedding(
  s: Scope,
  x: string,
  positions: string,
  cos: string,
  sin: string,
  heads: number,
) {
  return s.op('RotaryEmbedding', [x, positions, cos, sin], {
    domain: MS,
    attrs: { interleaved: 0, num_heads: heads },
  });
}

// ---- weights ----

export type WeightFormat = 'fp32' | 'fp16' | 'int8' | 'int4';

/** A Linear weight in the checkpoint's layout [out, in], read on demand. */
export interface MatrixSource {
  out: number;
  in: number;
  read(): Promise<Float32Array>;
}

/** Row-wise concatenation of several [out_i, in] weights (fused q/k/v or gate/up projections). */
export function stackRows(parts: MatrixSource[]): MatrixSource {
  const cols = parts[0]!.in;
  if (parts.some((p) => p.in !== cols)) throw new Error('stackRows: input sizes differ');
  const rows = parts.reduce((a, p) => a + p.out, 0);
  return {
    out: rows,
    in: cols,
    async read() {
      const out = new Float32Array(rows * cols);
      let offset = 0;
      for (const p of parts) {
        out.set(await p.read(), offset);
        offset += p.out * cols;
      }
      return out;
    },
  };
}

/** MatMulNBits compute precision: 0 = the weights' float type, 4 = int8 activations (blockwise, as llama.cpp). */
export type AccuracyLevel = 0 | 1 | 4;

/**
 * Level 4 by default: measured here (onnxruntime-node 1.30, 2 threads, 4096 x 4096, best of 10) one matvec takes
 * 0.19 ms at 4 bits and 0.43 ms at 8 bits with level 4, against 0.77 ms and 176 ms (an unoptimised fallback)
 * with level 0; 64-row prefill blocks 13 ms against 53 ms at 4 bits.
 */
export const DEFAULT_ACCURACY_LEVEL: AccuracyLevel = 4;

export interface LinearOptions {
  format: WeightFormat;
  bias?: string | null;
  accuracyLevel?: AccuracyLevel;
  /** Quantisation block length along the input dimension (default DEFAULT_INT4_BLOCK_SIZE / DEFAULT_BLOCK_SIZE). */
  blockSize?: number;
}

/** y = x W^T (+ b) with W stored as `format`; x is [..., in]. */
export function linear(s: Scope, x: string, w: MatrixSource, opts: LinearOptions): string {
  const y = linearNoBias(s, x, w, opts);
  return opts.bias ? add(s, y, opts.bias) : y;
}

function linearNoBias(s: Scope, x: string, w: MatrixSource, opts: LinearOptions): string {
  const dims = [w.in, w.out];
  const transposed = async () => transpose2d(await w.read(), w.out, w.in);
  switch (opts.format) {
    case 'fp32':
      return matmul(
        s,
        x,
        s.tensor('weight', 'float32', dims, async () => bytesOf(await transposed())),
      );
    case 'fp16': {
      // Stored half precision; computed in fp32 (the CPU provider has no fp16 GEMM on x86).
      const w16 = s.tensor('weight', 'float16', dims, async () => bytesOf(toFloat16(await transposed())));
      return matmul(s, x, cast(s, w16, 'float32'));
    }
    case 'int8':
    case 'int4':
      return matMulNBits(
        s,
        x,
        w,
        opts.format === 'int8' ? 8 : 4,
        opts.accuracyLevel ?? DEFAULT_ACCURACY_LEVEL,
        opts.blockSize ?? (opts.format === 'int4' ? DEFAULT_INT4_BLOCK_SIZE : DEFAULT_BLOCK_SIZE),
      );
  }
}

/** MatMulNBits takes power-of-two blocks of at least 16 values. */
function checkBlockSize(blockSize: number): void {
  if (!(Number.isInteger(blockSize) && blockSize >= 16 && (blockSize & (blockSize - 1)) === 0))
    throw new Error(`MatMulNBits block size must be a power of two >= 16: ${blockSize}`);
}

/** y = x dequant(W)^T with W block-quantised (see quantize.ts). */
export function matMulNBits(
  s: Scope,
  x: string,
  w: MatrixSource,
  bits: 4 | 8,
  accuracyLevel: AccuracyLevel,
  blockSize = DEFAULT_BLOCK_SIZE,
): string {
  checkBlockSize(blockSize);
  const blocks = Math.ceil(w.in / blockSize);
  // The three initializers come from one quantisation; the read is shared and dropped once all are written.
  let pending: Promise<BlockQuantized> | null = null;
  let taken = 0;
  const part =
    <T>(pick: (q: BlockQuantized) => T) =>
    async () => {
      pending ??= w.read().then((f) => quantizeBlockwise(f, w.out, w.in, bits, blockSize));
      const q = await pending;
      if (++taken === 3) pending = null;
      return pick(q);
    };
  const b = s.tensor(
    'weight_q',
    'uint8',
    [w.out, blocks, (blockSize * bits) / 8],
    part((q) => q.packed),
  );
  const scales = s.tensor(
    'scales',
    'float32',
    [w.out * blocks],
    part((q) => bytesOf(q.scales)),
  );
  const zp = s.tensor(
    'zero_points',
    'uint8',
    [w.out * Math.ceil((blocks * bits) / 8)],
    part((q) => q.zeroPoints),
  );
  return s.op('MatMulNBits', [x, b, scales, zp], {
    domain: MS,
    attrs: { K: w.in, N: w.out, bits, block_size: blockSize, accuracy_level: accuracyLevel },
  });
}
