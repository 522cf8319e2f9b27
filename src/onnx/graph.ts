/**
 * A small ONNX graph builder. Nodes are named as paths (`/model/layers.0/attn/q_proj/MatMul`), their outputs
 * `<node>/output_<i>`. Initializer bytes may be produced lazily, so a graph over a 7B checkpoint can be written
 * tensor by tensor to an external data file without holding the weights in memory.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { inputError } from '../errors.js';
import {
  type AttributeValue,
  encodeModel,
  type NodeMessage,
  type OnnxDtype,
  type TensorMessage,
  type ValueInfoMessage,
} from './proto.js';

export type Dim = number | string;
/** Tensor bytes now, or a producer called once when the model is written. */
export type TensorBytes = Uint8Array | (() => Promise<Uint8Array>);

interface Initializer {
  name: string;
  dtype: OnnxDtype;
  dims: number[];
  data: TensorBytes;
}

/** ONNX opset versions the graphs are written against. */
export const OPSETS: Record<string, number> = { '': 21, 'com.microsoft': 1 };
/** Protobuf messages are limited to 2 GiB; larger models must use external data. */
export const PROTO_LIMIT_BYTES = 2 ** 31 - 1;
/** Initializers at least this large go to the external data file when saving. */
const EXTERNAL_MIN_BYTES = 1024;
/** Alignment of tensors in the external data file (lets ONNX Runtime map them directly). */
const EXTERNAL_ALIGN = 4096;

const BYTES_PER_ELEMENT: Record<OnnxDtype, number> = {
  float32: 4,
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  int32: 4,
  int64: 8,
  bool: 1,
  float16: 2,
  float64: 8,
};

export function byteSize(dtype: OnnxDtype, dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1) * BYTES_PER_ELEMENT[dtype];
}

export interface NodeOptions {
  domain?: string;
  attrs?: Record<string, AttributeValue>;
  /** Number of outputs (default 1). */
  outputs?: number;
}

export class Graph {
  readonly nodes: NodeMessage[] = [];
  private readonly inits = new Map<string, Initializer>();
  private readonly inputs: ValueInfoMessage[] = [];
  private readonly outputs: ValueInfoMessage[] = [];
  private readonly usedNames = new Set<string>();

  constructor(readonly name: string) {}

  /** The root scope; graph functions build everything below it. */
  root(path = ''): Scope {
    return new Scope(this, path);
  }

  input(name: string, dtype: OnnxDtype, shape: Dim[]): string {
    this.inputs.push({ name, dtype, shape });
    return name;
  }

  /** Declare `value` a graph output called `name` (an Identity is inserted when the names differ). */
  output(value: string, name: string, dtype: OnnxDtype, shape: Dim[]): void {
    if (value !== name) this.nodes.push(node(`${name}/Identity`, 'Identity', '', [value], [name], {}));
    this.outputs.push({ name, dtype, shape });
  }

  initializer(name: string, dtype: OnnxDtype, dims: number[], data: TensorBytes): string {
    if (this.inits.has(name)) throw new Error(`duplicate initializer ${name}`);
    if (data instanceof Uint8Array && data.length !== byteSize(dtype, dims)) {
      throw new Error(`initializer ${name}: ${data.length} bytes for ${dtype}[${dims}]`);
    }
    this.inits.set(name, { name, dtype, dims, data });
    return name;
  }

  hasInitializer(name: string): boolean {
    return this.inits.has(name);
  }

  /** Add a node at `path`; returns its output names. */
  addNode(path: string, opType: string, inputs: (string | null)[], opts: NodeOptions = {}): string[] {
    let name = path;
    for (let i = 1; this.usedNames.has(name); i++) name = `${path}_${i}`;
    this.usedNames.add(name);
    const outputs = Array.from({ length: opts.outputs ?? 1 }, (_, i) => `${name}/output_${i}`);
    // ONNX marks an omitted optional input with the empty name.
    const ins = inputs.map((i) => i ?? '');
    while (ins.length > 0 && ins[ins.length - 1] === '') ins.pop();
    this.nodes.push(node(name, opType, opts.domain ?? '', ins, outputs, opts.attrs ?? {}));
    return outputs;
  }

  opTypes(): string[] {
    return this.nodes.map((n) => (n.domain ? `${n.domain}.${n.opType}` : n.opType));
  }

  /** Total initializer bytes (what the weights cost on disk). */
  weightBytes(): number {
    let n = 0;
    for (const t of this.inits.values()) n += byteSize(t.dtype, t.dims);
    return n;
  }

  private message(initializers: TensorMessage[], metadata: Record<string, string>) {
    return encodeModel({
      graphName: this.name,
      nodes: this.nodes,
      initializers,
      inputs: this.inputs,
      outputs: this.outputs,
      opsets: OPSETS,
      metadata,
    });
  }

  /** The whole model in one buffer (weights inside); only for models under 2 GiB. */
  async toBytes(metadata: Record<string, string> = {}): Promise<Uint8Array> {
    if (this.weightBytes() > PROTO_LIMIT_BYTES) {
      throw inputError(
        'onnx.too_large',
        `graph ${this.name} holds over 2 GiB of weights: save it with external data`,
        {},
      );
    }
    const tensors: TensorMessage[] = [];
    for (const t of this.inits.values()) {
      tensors.push({ name: t.name, dtype: t.dtype, dims: t.dims, raw: await resolve(t) });
    }
    return this.message(tensors, metadata).finish();
  }

  /**
   * Write `<dir>/<base>.onnx` and, for the large tensors, `<dir>/<base>.onnx.data`, one tensor at a time.
   * Returns the file names written.
   */
  async save(dir: string, base: string, metadata: Record<string, string> = {}): Promise<string[]> {
    mkdirSync(dir, { recursive: true });
    const dataName = `${base}.onnx.data`;
    const fd = openSync(join(dir, dataName), 'w');
    const tensors: TensorMessage[] = [];
    let offset = 0;
    try {
      for (const t of this.inits.values()) {
        const raw = await resolve(t);
        if (raw.length < EXTERNAL_MIN_BYTES) {
          tensors.push({ name: t.name, dtype: t.dtype, dims: t.dims, raw });
          continue;
        }
        const pad = (EXTERNAL_ALIGN - (offset % EXTERNAL_ALIGN)) % EXTERNAL_ALIGN;
        if (pad) writeSync(fd, new Uint8Array(pad));
        offset += pad;
        writeAll(fd, raw);
        tensors.push({
          name: t.name,
          dtype: t.dtype,
          dims: t.dims,
          external: { location: dataName, offset, length: raw.length },
        });
        offset += raw.length;
      }
    } finally {
      closeSync(fd);
    }
    const modelName = `${base}.onnx`;
    const out = openSync(join(dir, modelName), 'w');
    try {
      for (const part of this.message(tensors, metadata).parts()) writeAll(out, part);
    } finally {
      closeSync(out);
    }
    return [modelName, dataName];
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}

async function resolve(t: Initializer): Promise<Uint8Array> {
  const raw = typeof t.data === 'function' ? await t.data() : t.data;
  const want = byteSize(t.dtype, t.dims);
  if (raw.length !== want)
    throw new Error(`initializer ${t.name}: produced ${raw.length} bytes, expected ${want}`);
  return raw;
}

function node(
  name: string,
  opType: string,
  domain: string,
  inputs: string[],
  outputs: string[],
  attributes: Record<string, AttributeValue>,
): NodeMessage {
  return { name, opType, domain, inputs, outputs, attributes };
}

/** A position in the node-path hierarchy: `/model/layers.0/attn`. */
export class Scope {
  constructor(
    readonly graph: Graph,
    readonly path: string,
  ) {}

  child(name: string): Scope {
    return new Scope(this.graph, `${this.path}/${name}`);
  }

  /** A node named `<scope>/<opType>` (suffixed `_1`, `_2` when repeated). */
  op(opType: string, inputs: (string | null)[], opts: NodeOptions = {}): string {
    return this.graph.addNode(`${this.path}/${opType}`, opType, inputs, opts)[0]!;
  }

  ops(opType: string, inputs: (string | null)[], opts: NodeOptions & { outputs: number }): string[] {
    return this.graph.addNode(`${this.path}/${opType}`, opType, inputs, opts);
  }

  /** An initializer named after this scope: `<scope>/<name>`. */
  tensor(name: string, dtype: OnnxDtype, dims: number[], data: TensorBytes): string {
    return this.graph.initializer(`${this.path}/${name}`, dtype, dims, data);
  }
}
