/**
 * A minimal GGUF (version 3) writer: typed metadata and F32 tensors. Tests use it to build tiny random-weight
 * models that llama.cpp loads for real; benches can use it for synthetic models of any size.
 *
 * Layout (ggml's gguf.md): magic "GGUF", version, tensor count, metadata count, the metadata key/values, the
 * tensor infos (name, dims innermost first, type, offset into the data section), padding to the alignment, data.
 */

const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
const GGUF_VERSION = 3;
/** ggml's default `general.alignment`. */
export const GGUF_ALIGNMENT = 32;
const GGML_TYPE_F32 = 0;

/** gguf_metadata_value_type codes. */
const VALUE_TYPE = {
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
} as const;

type Scalar =
  | { type: 'u32'; value: number }
  | { type: 'i32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string };

export type GgufValue =
  | Scalar
  | { type: 'array'; items: Scalar['type']; values: (number | string | boolean)[] };

export interface GgufTensor {
  name: string;
  /** ggml order: innermost (contiguous) dimension first, e.g. a Linear(in, out) weight is [in, out]. */
  dims: number[];
  data: Float32Array;
}

export const gguf = {
  u32: (value: number): GgufValue => ({ type: 'u32', value }),
  i32: (value: number): GgufValue => ({ type: 'i32', value }),
  f32: (value: number): GgufValue => ({ type: 'f32', value }),
  bool: (value: boolean): GgufValue => ({ type: 'bool', value }),
  str: (value: string): GgufValue => ({ type: 'string', value }),
  strings: (values: string[]): GgufValue => ({ type: 'array', items: 'string', values }),
  f32s: (values: number[]): GgufValue => ({ type: 'array', items: 'f32', values }),
  i32s: (values: number[]): GgufValue => ({ type: 'array', items: 'i32', values }),
};

/** Appends little-endian values to a growing list of chunks. */
class ByteSink {
  readonly chunks: Buffer[] = [];
  length = 0;

  push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  u32(n: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    this.push(b);
  }
  i32(n: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    this.push(b);
  }
  u64(n: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    this.push(b);
  }
  f32(x: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(x);
    this.push(b);
  }
  string(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    this.push(bytes);
  }
  padTo(alignment: number): void {
    const rem = this.length % alignment;
    if (rem !== 0) this.push(Buffer.alloc(alignment - rem));
  }
}

function writeScalar(sink: ByteSink, type: Scalar['type'], value: number | string | boolean): void {
  switch (type) {
    case 'u32':
      sink.u32(value as number);
      return;
    case 'i32':
      sink.i32(value as number);
      return;
    case 'f32':
      sink.f32(value as number);
      return;
    case 'bool':
      sink.push(Buffer.from([value ? 1 : 0]));
      return;
    case 'string':
      sink.string(value as string);
      return;
  }
}

function writeValue(sink: ByteSink, v: GgufValue): void {
  sink.u32(VALUE_TYPE[v.type]);
  if (v.type !== 'array') {
    writeScalar(sink, v.type, v.value);
    return;
  }
  sink.u32(VALUE_TYPE[v.items]);
  sink.u64(v.values.length);
  for (const item of v.values) writeScalar(sink, v.items, item);
}

/** ggml tensor type codes this writer emits (F32 here; block-quantised data is produced by the caller). */
export const GGML_TYPE = { F32: GGML_TYPE_F32, F16: 1, Q4_0: 2, Q8_0: 8 } as const;

/** A tensor as the header describes it; its bytes are written by the caller (streamed for large models). */
export interface GgufTensorInfo {
  name: string;
  /** ggml order: innermost dimension first. */
  dims: number[];
  type: number;
  byteLength: number;
}

/**
 * Everything before the tensor data: magic, counts, metadata, tensor infos (offsets packed with the alignment)
 * and the padding up to the data section. The data then follows tensor by tensor, each padded to GGUF_ALIGNMENT.
 */
export function ggufHeader(metadata: Record<string, GgufValue>, tensors: GgufTensorInfo[]): Buffer {
  const sink = new ByteSink();
  sink.u32(GGUF_MAGIC);
  sink.u32(GGUF_VERSION);
  sink.u64(tensors.length);
  sink.u64(Object.keys(metadata).length);
  for (const [key, value] of Object.entries(metadata)) {
    sink.string(key);
    writeValue(sink, value);
  }
  let offset = 0;
  for (const t of tensors) {
    sink.string(t.name);
    sink.u32(t.dims.length);
    for (const d of t.dims) sink.u64(d);
    sink.u32(t.type);
    sink.u64(offset);
    offset += ggufPadded(t.byteLength);
  }
  sink.padTo(GGUF_ALIGNMENT);
  return Buffer.concat(sink.chunks, sink.length);
}

/** Bytes a tensor takes in the data section (its data plus the padding to the alignment). */
export function ggufPadded(byteLength: number): number {
  return alignUp(byteLength, GGUF_ALIGNMENT);
}

/** Serialise a GGUF file. Tensor data is F32; every tensor starts on an aligned offset. */
export function writeGguf(metadata: Record<string, GgufValue>, tensors: GgufTensor[]): Buffer {
  for (const t of tensors) {
    const count = t.dims.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new Error(
        `gguf tensor ${t.name}: dims ${t.dims.join('x')} hold ${count} values, data has ${t.data.length}`,
      );
    }
  }
  const infos = tensors.map((t) => ({
    name: t.name,
    dims: t.dims,
    type: GGML_TYPE_F32,
    byteLength: t.data.byteLength,
  }));
  const parts: Buffer[] = [ggufHeader(metadata, infos)];
  for (const t of tensors) {
    parts.push(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    parts.push(Buffer.alloc(ggufPadded(t.data.byteLength) - t.data.byteLength));
  }
  return Buffer.concat(parts);
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}
