/**
 * safetensors: an 8-byte little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?}`, then the data; offsets are
 * relative to the end of the header. Tensors are read lazily with positioned reads.
 */
import { inputError } from '../errors.js';
import { DTYPE_BYTES, isTensorDtype, numelOf } from './dtype.js';
import { RandomAccessFile } from './file.js';
import { EntrySource, type TensorEntry } from './source.js';
import type { TensorInfo, TensorSource } from './types.js';

/** Headers larger than this are refused: real ones are a few hundred KiB, a bigger length is a lie. */
export const MAX_SAFETENSORS_HEADER = 100 * 1024 * 1024;
const HEADER_LENGTH_BYTES = 8;

interface RawEntry {
  dtype?: unknown;
  shape?: unknown;
  data_offsets?: unknown;
}

export async function openSafetensors(path: string): Promise<TensorSource> {
  const file = await RandomAccessFile.open(path);
  try {
    const entries = await readIndex(file);
    return new EntrySource(path, entries, () => file.close());
  } catch (e) {
    await file.close();
    throw e;
  }
}

async function readIndex(file: RandomAccessFile): Promise<Map<string, TensorEntry>> {
  const path = file.path;
  if (file.size < HEADER_LENGTH_BYTES) {
    throw inputError('weights.truncated', 'too short for a safetensors header', { file: path });
  }
  const lenBytes = await file.read(0, HEADER_LENGTH_BYTES, 'header length');
  const headerLen = Number(new DataView(lenBytes.buffer).getBigUint64(0, true));
  if (headerLen > MAX_SAFETENSORS_HEADER || HEADER_LENGTH_BYTES + headerLen > file.size) {
    throw inputError('weights.bad_header', 'safetensors header length is impossible', {
      file: path,
      expected: `at most ${Math.min(MAX_SAFETENSORS_HEADER, file.size - HEADER_LENGTH_BYTES)}`,
      found: String(headerLen),
    });
  }
  const headerBytes = await file.read(HEADER_LENGTH_BYTES, headerLen, 'header');
  let header: Record<string, RawEntry>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (e) {
    throw inputError('weights.bad_header', 'safetensors header is not valid UTF-8 JSON', {
      file: path,
      cause: e,
    });
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw inputError('weights.bad_header', 'safetensors header is not a JSON object', { file: path });
  }
  const dataStart = HEADER_LENGTH_BYTES + headerLen;
  const entries = new Map<string, TensorEntry>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { info, begin, end } = parseEntry(path, name, raw, file.size - dataStart);
    entries.set(name, { info, read: () => file.read(dataStart + begin, end - begin, `tensor ${name}`) });
  }
  return entries;
}

function parseEntry(
  path: string,
  name: string,
  raw: RawEntry,
  dataSize: number,
): { info: TensorInfo; begin: number; end: number } {
  const bad = (message: string, expected?: string, found?: string) =>
    inputError('weights.bad_tensor', message, { file: path, field: name, expected, found });
  const dtype = String(raw?.dtype);
  if (!isTensorDtype(dtype)) {
    throw inputError('weights.unknown_dtype', 'unsupported dtype', {
      file: path,
      field: name,
      expected: Object.keys(DTYPE_BYTES).join('|'),
      found: dtype,
    });
  }
  const shape = raw.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw bad('shape is not a list of non-negative integers', undefined, JSON.stringify(shape));
  }
  const offsets = raw.data_offsets;
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    throw bad('data_offsets is not [begin, end]', undefined, JSON.stringify(offsets));
  }
  const [begin, end] = offsets as [number, number];
  const bytes = numelOf(shape) * DTYPE_BYTES[dtype];
  if (end - begin !== bytes) {
    throw bad('data_offsets do not match shape and dtype', `${bytes} bytes`, `${end - begin}`);
  }
  if (end > dataSize)
    throw bad('tensor data lies past the end of the file', `end <= ${dataSize}`, String(end));
  return { info: { name, dtype, shape: [...shape] }, begin, end };
}
