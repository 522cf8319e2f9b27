/**
 * NumPy `.npy` files (format versions 1-3), read and written without NumPy.
 * Little-endian only on write; big-endian arrays are byte-swapped on read.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { inputError } from '../errors.js';

export type NpyDtype =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'uint16'
  | 'bool';

export type NpyData =
  | Float32Array
  | Float64Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** Row-major (C order) data. float16 comes back as raw Uint16Array bits; bool as Uint8Array. */
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR: Record<string, { dtype: NpyDtype; bytes: number }> = {
  f4: { dtype: 'float32', bytes: 4 },
  f8: { dtype: 'float64', bytes: 8 },
  f2: { dtype: 'float16', bytes: 2 },
  i8: { dtype: 'int64', bytes: 8 },
  i4: { dtype: 'int32', bytes: 4 },
  i2: { dtype: 'int16', bytes: 2 },
  i1: { dtype: 'int8', bytes: 1 },
  u1: { dtype: 'uint8', bytes: 1 },
  u2: { dtype: 'uint16', bytes: 2 },
  b1: { dtype: 'bool', bytes: 1 },
};

export function readNpy(path: string): NpyArray {
  return parseNpy(readFileSync(path), path);
}

export function parseNpy(buf: Uint8Array, file = '<buffer>'): NpyArray {
  const bad = (what: string) => inputError('npy.invalid', what, { file });
  if (buf.length < 10 || MAGIC.some((b, i) => buf[i] !== b)) throw bad('not a .npy file (bad magic)');
  const major = buf[6]!;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  if (headerStart + headerLen > buf.length) throw bad('header runs past the end of the file');
  const header = new TextDecoder('latin1').decode(buf.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr':\s*'([<>|=])(\w\d)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shapeMatch = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeMatch) throw bad(`unreadable header ${JSON.stringify(header)}`);
  if (fortran[1] === 'True') throw bad('Fortran-ordered arrays are not supported');
  const kind = DESCR[descr[2]!];
  if (!kind) throw bad(`unsupported dtype ${descr[1]}${descr[2]}`);
  const shape = shapeMatch[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = headerStart + headerLen;
  const byteLength = count * kind.bytes;
  if (dataStart + byteLength > buf.length)
    throw bad(`data is truncated: need ${byteLength} bytes after the header`);
  // Copy so the typed array is aligned and owns its memory.
  const bytes = new Uint8Array(buf.subarray(dataStart, dataStart + byteLength)); // Buffer.slice would not copy
  if (descr[1] === '>' && kind.bytes > 1) swapBytes(bytes, kind.bytes);
  return { dtype: kind.dtype, shape, data: typedView(kind.dtype, bytes.buffer) };
}

function swapBytes(bytes: Uint8Array, width: number): void {
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

function typedView(dtype: NpyDtype, buffer: ArrayBuffer): NpyData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer);
    case 'float64':
      return new Float64Array(buffer);
    case 'float16':
    case 'uint16':
      return new Uint16Array(buffer);
    case 'int64':
      return new BigInt64Array(buffer);
    case 'int32':
      return new Int32Array(buffer);
    case 'int16':
      return new Int16Array(buffer);
    case 'int8':
      return new Int8Array(buffer);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer);
  }
}

const WRITE_DESCR: Record<NpyDtype, string> = {
  float32: '<f4',
  float64: '<f8',
  float16: '<f2',
  int64: '<i8',
  int32: '<i4',
  int16: '<i2',
  int8: '|i1',
  uint8: '|u1',
  uint16: '<u2',
  bool: '|b1',
};

/** Serialise an array as a version-1 .npy (header padded to a multiple of 64 bytes, as NumPy does). */
export function encodeNpy(array: NpyArray): Uint8Array {
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let header = `{'descr': '${WRITE_DESCR[array.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const body = new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  const out = new Uint8Array(10 + header.length + body.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(body, 10 + header.length);
  return out;
}

export function writeNpy(path: string, array: NpyArray): void {
  writeFileSync(path, encodeNpy(array));
}

/** Convert any numeric npy data to Float32Array (int64 through Number). */
export function toFloat32(array: NpyArray): Float32Array {
  const d = array.data;
  if (d instanceof Float32Array) return d;
  if (array.dtype === 'float16') throw new Error('toFloat32: float16 needs a half-float decoder');
  if (d instanceof BigInt64Array) return Float32Array.from(d, (v) => Number(v));
  return Float32Array.from(d as ArrayLike<number>);
}
