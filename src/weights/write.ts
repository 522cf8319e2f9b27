/**
 * Writers for safetensors and torch.save checkpoints (zip with ZIP64, and the legacy format). cxr reads
 * released files; these exist to make synthetic checkpoints for tests and benchmarks, streaming each
 * tensor so multi-GB files never sit in memory.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { DTYPE_BYTES, numelOf } from './dtype.js';
import { PickleBuilder } from './pickle-writer.js';
import type { TensorDtype } from './types.js';

/**
 * Bytes now, produced when the writer reaches them, or `{ zeros: n }`: n zero bytes left as a hole in
 * a sparse file (multi-GB offsets in tests without writing GBs; the zip CRC of a hole is written as 0).
 */
export type BytesSource = Uint8Array | (() => Uint8Array) | { zeros: number };

export interface TensorToWrite {
  name: string;
  dtype: TensorDtype;
  shape: number[];
  data: BytesSource;
}

const resolve = (b: BytesSource): Uint8Array | { zeros: number } => (typeof b === 'function' ? b() : b);

function byteLength(b: Uint8Array | { zeros: number }): number {
  return b instanceof Uint8Array ? b.length : b.zeros;
}

/** Sequential writer with positioned writes, so a hole is just a jump of the position. */
class Sink {
  position = 0;
  private constructor(private readonly handle: FileHandle) {}
  static async open(path: string): Promise<Sink> {
    return new Sink(await open(path, 'w'));
  }
  async write(b: Uint8Array | { zeros: number }): Promise<void> {
    if (!(b instanceof Uint8Array)) {
      this.position += b.zeros;
      return;
    }
    let done = 0;
    while (done < b.length) {
      done += (await this.handle.write(b, done, b.length - done, this.position + done)).bytesWritten;
    }
    this.position += b.length;
  }
  async close(): Promise<void> {
    await this.handle.truncate(this.position); // a trailing hole still counts
    await this.handle.close();
  }
}

export async function writeSafetensors(
  path: string,
  tensors: TensorToWrite[],
  metadata?: Record<string, string>,
): Promise<void> {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const t of tensors) {
    const size = numelOf(t.shape) * DTYPE_BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // keep the data 8-byte aligned
  const headerBytes = new TextEncoder().encode(json);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  const sink = await Sink.open(path);
  try {
    await sink.write(len);
    await sink.write(headerBytes);
    for (const t of tensors) await sink.write(resolve(t.data));
  } finally {
    await sink.close();
  }
}

/** A storage and the tensors viewing it; omit `tensors` for one contiguous tensor named like the storage. */
export interface StorageToWrite {
  key: string;
  dtype: TensorDtype;
  numel: number;
  data: BytesSource;
}

export interface ViewToWrite {
  name: string;
  storage: string;
  offset?: number;
  shape: number[];
  /** C order when omitted. */
  stride?: number[];
}

export interface TorchZipOptions {
  /** Top-level folder inside the zip (torch uses the file's stem). */
  archive?: string;
  /** Writes `<archive>/byteorder`; torch >= 1.13 writes 'little'. */
  byteorder?: 'little' | 'big';
  /** Replace the pickle (for hostile-input tests). */
  pickle?: Uint8Array;
}

const STORAGE_CLASS: Record<TensorDtype, string> = {
  F64: 'DoubleStorage',
  F32: 'FloatStorage',
  F16: 'HalfStorage',
  BF16: 'BFloat16Storage',
  I64: 'LongStorage',
  I32: 'IntStorage',
  I16: 'ShortStorage',
  I8: 'CharStorage',
  U8: 'ByteStorage',
  BOOL: 'BoolStorage',
};

export function cOrderStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** The state-dict pickle torch.save writes: {name: _rebuild_tensor_v2(storage, offset, size, stride, ...)}. */
export function stateDictPickle(
  storages: StorageToWrite[],
  views: ViewToWrite[],
  legacyPersistentIds = false,
): Uint8Array {
  const byKey = new Map(storages.map((s) => [s.key, s]));
  const p = new PickleBuilder().proto(2).emptyDict().mark();
  for (const v of views) {
    const s = byKey.get(v.storage)!;
    p.str(v.name).global('torch._utils', '_rebuild_tensor_v2').mark();
    p.mark().str('storage').global('torch', STORAGE_CLASS[s.dtype]).str(s.key).str('cpu').int(s.numel);
    if (legacyPersistentIds) p.none();
    p.tuple().binPersId();
    p.int(v.offset ?? 0)
      .ints(v.shape)
      .ints(v.stride ?? cOrderStrides(v.shape));
    p.bool(false).global('collections', 'OrderedDict').emptyTuple().reduce();
    p.tuple().reduce();
  }
  return p.setItems().stop().bytes();
}

export function contiguous(tensors: TensorToWrite[]): { storages: StorageToWrite[]; views: ViewToWrite[] } {
  return {
    storages: tensors.map((t, i) => ({
      key: String(i),
      dtype: t.dtype,
      numel: numelOf(t.shape),
      data: t.data,
    })),
    views: tensors.map((t, i) => ({ name: t.name, storage: String(i), shape: t.shape })),
  };
}

export async function writeTorchZip(
  path: string,
  storages: StorageToWrite[],
  views: ViewToWrite[],
  opts: TorchZipOptions = {},
): Promise<void> {
  const archive = opts.archive ?? 'archive';
  const zip = new ZipWriter(await Sink.open(path));
  try {
    await zip.add(`${archive}/data.pkl`, opts.pickle ?? stateDictPickle(storages, views));
    if (opts.byteorder) await zip.add(`${archive}/byteorder`, new TextEncoder().encode(opts.byteorder));
    for (const s of storages) await zip.add(`${archive}/data/${s.key}`, resolve(s.data));
    await zip.add(`${archive}/version`, new TextEncoder().encode('3\n'));
    await zip.finish();
  } finally {
    await zip.close();
  }
}

/** torch.save(..., _use_new_zipfile_serialization=False): five pickles, then each storage as count + bytes. */
export async function writeTorchLegacy(
  path: string,
  storages: StorageToWrite[],
  views: ViewToWrite[],
  littleEndian = true,
): Promise<void> {
  const sink = await Sink.open(path);
  try {
    await sink.write(new PickleBuilder().proto(2).long(0x1950a86a20f9469cfc6cn).stop().bytes());
    await sink.write(new PickleBuilder().proto(2).int(1001).stop().bytes());
    const sys = new PickleBuilder().proto(2).emptyDict().mark();
    sys.str('protocol_version').int(1001).str('little_endian').bool(littleEndian);
    await sink.write(sys.setItems().stop().bytes());
    await sink.write(stateDictPickle(storages, views, true));
    const keys = new PickleBuilder().proto(2).emptyList().mark();
    for (const s of storages) keys.str(s.key);
    await sink.write(keys.appends().stop().bytes());
    for (const s of storages) {
      const count = new Uint8Array(8);
      new DataView(count.buffer).setBigInt64(0, BigInt(s.numel), littleEndian);
      await sink.write(count);
      await sink.write(resolve(s.data));
    }
  } finally {
    await sink.close();
  }
}

const U32_MAX = 0xffffffff;
/** torch aligns each entry's data to 64 bytes with a padding extra field. */
const DATA_ALIGN = 64;

let crcTable: Uint32Array | undefined;
function crc32(b: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = crcTable[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

interface Written {
  name: Uint8Array;
  offset: number;
  size: number;
  crc: number;
}

/** A stored-only zip writer that switches to ZIP64 records past 4 GiB, as torch's writer does. */
class ZipWriter {
  private readonly written: Written[] = [];
  constructor(private readonly sink: Sink) {}

  async add(name: string, data: Uint8Array | { zeros: number }): Promise<void> {
    const nameBytes = new TextEncoder().encode(name);
    const offset = this.sink.position;
    const size = byteLength(data);
    const big = size >= U32_MAX;
    const zip64 = big ? extraField(0x0001, [size, size]) : new Uint8Array(0);
    const fixed = 30 + nameBytes.length + zip64.length + 4;
    const pad = (DATA_ALIGN - ((offset + fixed) % DATA_ALIGN)) % DATA_ALIGN;
    const extra = concat(zip64, extraField(0x4246, [], pad)); // 'FB' padding, as torch writes
    const crc = data instanceof Uint8Array ? crc32(data) : 0;
    const h = new DataView(new ArrayBuffer(30));
    h.setUint32(0, 0x04034b50, true);
    h.setUint16(4, big ? 45 : 20, true);
    h.setUint32(14, crc, true);
    h.setUint32(18, big ? U32_MAX : size, true);
    h.setUint32(22, big ? U32_MAX : size, true);
    h.setUint16(26, nameBytes.length, true);
    h.setUint16(28, extra.length, true);
    await this.sink.write(new Uint8Array(h.buffer));
    await this.sink.write(nameBytes);
    await this.sink.write(extra);
    await this.sink.write(data);
    this.written.push({ name: nameBytes, offset, size, crc });
  }

  async finish(): Promise<void> {
    const cdStart = this.sink.position;
    for (const w of this.written) await this.sink.write(centralEntry(w));
    const cdSize = this.sink.position - cdStart;
    const n = this.written.length;
    const needs64 = cdStart >= U32_MAX || this.written.some((w) => w.offset >= U32_MAX || w.size >= U32_MAX);
    if (needs64) {
      const z = new DataView(new ArrayBuffer(56 + 20));
      const at = this.sink.position;
      z.setUint32(0, 0x06064b50, true);
      z.setBigUint64(4, 44n, true);
      z.setUint16(12, 45, true);
      z.setUint16(14, 45, true);
      z.setBigUint64(24, BigInt(n), true);
      z.setBigUint64(32, BigInt(n), true);
      z.setBigUint64(40, BigInt(cdSize), true);
      z.setBigUint64(48, BigInt(cdStart), true);
      z.setUint32(56, 0x07064b50, true);
      z.setBigUint64(64, BigInt(at), true);
      z.setUint32(72, 1, true);
      await this.sink.write(new Uint8Array(z.buffer));
    }
    const e = new DataView(new ArrayBuffer(22));
    e.setUint32(0, 0x06054b50, true);
    e.setUint16(8, needs64 ? 0xffff : n, true);
    e.setUint16(10, needs64 ? 0xffff : n, true);
    e.setUint32(12, needs64 ? U32_MAX : cdSize, true);
    e.setUint32(16, needs64 ? U32_MAX : cdStart, true);
    await this.sink.write(new Uint8Array(e.buffer));
  }

  close(): Promise<void> {
    return this.sink.close();
  }
}

function centralEntry(w: Written): Uint8Array {
  const bigSize = w.size >= U32_MAX;
  const bigOffset = w.offset >= U32_MAX;
  const z: number[] = [];
  if (bigSize) z.push(w.size, w.size);
  if (bigOffset) z.push(w.offset);
  const extra = z.length ? extraField(0x0001, z) : new Uint8Array(0);
  const h = new DataView(new ArrayBuffer(46));
  h.setUint32(0, 0x02014b50, true);
  h.setUint16(4, 45, true);
  h.setUint16(6, bigSize || bigOffset ? 45 : 20, true);
  h.setUint32(16, w.crc, true);
  h.setUint32(20, bigSize ? U32_MAX : w.size, true);
  h.setUint32(24, bigSize ? U32_MAX : w.size, true);
  h.setUint16(28, w.name.length, true);
  h.setUint16(30, extra.length, true);
  h.setUint32(42, bigOffset ? U32_MAX : w.offset, true);
  return concat(new Uint8Array(h.buffer), w.name, extra);
}

/** An extra field: id, length, then 64-bit values (or `pad` zero bytes). */
function extraField(id: number, values: number[], pad = 0): Uint8Array {
  const len = values.length * 8 + pad;
  const v = new DataView(new ArrayBuffer(4 + len));
  v.setUint16(0, id, true);
  v.setUint16(2, len, true);
  values.forEach((x, i) => {
    v.setBigUint64(4 + 8 * i, BigInt(x), true);
  });
  return new Uint8Array(v.buffer);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
