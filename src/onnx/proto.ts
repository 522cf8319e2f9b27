/**
 * Hand-written protobuf encoding of the ONNX messages cxr writes (onnx.proto, IR version 10).
 * Only encoding: ONNX Runtime reads the files. Field numbers are those of onnx/onnx.proto3.
 * A message is built as a list of byte chunks so that large raw tensors are never copied until the end.
 */

/** ONNX TensorProto.DataType values. */
export const OnnxDataType = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
} as const;
export type OnnxDtype = keyof typeof OnnxDataType;

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_BYTES = 2;

/** Accumulates encoded fields; nested messages are appended by reference. */
export class ProtoWriter {
  readonly chunks: Uint8Array[] = [];
  length = 0;
  private scratch: number[] = [];

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    this.chunks.push(Uint8Array.from(this.scratch));
    this.length += this.scratch.length;
    this.scratch = [];
  }

  private varint(value: number | bigint): void {
    // int64 fields: negative numbers are 10-byte two's complement varints.
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.scratch.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.scratch.push(Number(v));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.scratch.push(...b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_BYTES);
    this.varint(value.length);
    this.flushScratch();
    this.chunks.push(value);
    this.length += value.length;
    return this;
  }

  message(field: number, child: ProtoWriter): this {
    child.flushScratch();
    this.tag(field, WIRE_BYTES);
    this.varint(child.length);
    this.flushScratch();
    this.chunks.push(...child.chunks);
    this.length += child.length;
    return this;
  }

  /** Packed repeated int64 (dims, ints). */
  packedInts(field: number, values: readonly number[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    inner.flushScratch();
    return this.message(field, inner);
  }

  packedFloats(field: number, values: readonly number[]): this {
    const b = new Uint8Array(values.length * 4);
    const view = new DataView(b.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
    return this.bytes(field, b);
  }

  finish(): Uint8Array {
    this.flushScratch();
    return Buffer.concat(this.chunks, this.length);
  }

  /** The chunks, for streaming to a file without one big buffer. */
  parts(): Uint8Array[] {
    this.flushScratch();
    return this.chunks;
  }
}

// ---- ONNX messages ----

export type AttributeValue = number | string | number[] | string[] | { float: number } | { floats: number[] };

const ATTR = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

/** Integers become INT/INTS; wrap floats as {float} / {floats} so 1.0 is not taken for an int. */
export function encodeAttribute(name: string, value: AttributeValue): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if (typeof value === 'number') return w.int(20, ATTR.INT).int(3, value);
  if (typeof value === 'string') return w.int(20, ATTR.STRING).string(4, value);
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'string')) {
      w.int(20, ATTR.STRINGS);
      for (const s of value as string[]) w.string(9, s);
      return w;
    }
    return w.int(20, ATTR.INTS).packedInts(8, value as number[]);
  }
  if ('float' in value) return w.int(20, ATTR.FLOAT).float(2, value.float);
  return w.int(20, ATTR.FLOATS).packedFloats(7, value.floats);
}

export interface NodeMessage {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttributeValue>;
}

export function encodeNode(n: NodeMessage): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const [k, v] of Object.entries(n.attributes)) w.message(5, encodeAttribute(k, v));
  if (n.domain) w.string(7, n.domain);
  return w;
}

export interface ValueInfoMessage {
  name: string;
  dtype: OnnxDtype;
  /** Numbers are fixed sizes, strings symbolic dimensions. */
  shape: (number | string)[];
}

export function encodeValueInfo(v: ValueInfoMessage): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().int(1, OnnxDataType[v.dtype]).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, v.name).message(2, type);
}

export interface TensorMessage {
  name: string;
  dtype: OnnxDtype;
  dims: number[];
  /** Raw little-endian bytes stored inside the model. */
  raw?: Uint8Array;
  /** Stored in an external file instead. */
  external?: { location: string; offset: number; length: number };
}

export function encodeTensor(t: TensorMessage): ProtoWriter {
  const w = new ProtoWriter().packedInts(1, t.dims).int(2, OnnxDataType[t.dtype]).string(8, t.name);
  if (t.raw) w.bytes(9, t.raw);
  if (t.external) {
    const entries: [string, string][] = [
      ['location', t.external.location],
      ['offset', String(t.external.offset)],
      ['length', String(t.external.length)],
    ];
    for (const [k, v] of entries) w.message(13, new ProtoWriter().string(1, k).string(2, v));
    w.int(14, 1); // data_location = EXTERNAL
  }
  return w;
}

export interface ModelMessage {
  graphName: string;
  nodes: NodeMessage[];
  initializers: TensorMessage[];
  inputs: ValueInfoMessage[];
  outputs: ValueInfoMessage[];
  opsets: Record<string, number>;
  metadata: Record<string, string>;
}

export const IR_VERSION = 10;
const PRODUCER = 'cxr';

export function encodeModel(m: ModelMessage): ProtoWriter {
  const graph = new ProtoWriter();
  for (const n of m.nodes) graph.message(1, encodeNode(n));
  graph.string(2, m.graphName);
  for (const t of m.initializers) graph.message(5, encodeTensor(t));
  for (const v of m.inputs) graph.message(11, encodeValueInfo(v));
  for (const v of m.outputs) graph.message(12, encodeValueInfo(v));
  const model = new ProtoWriter().int(1, IR_VERSION).string(2, PRODUCER);
  model.message(7, graph);
  for (const [domain, version] of Object.entries(m.opsets)) {
    model.message(8, new ProtoWriter().string(1, domain).int(2, version));
  }
  for (const [k, v] of Object.entries(m.metadata))
    model.message(14, new ProtoWriter().string(1, k).string(2, v));
  return model;
}
