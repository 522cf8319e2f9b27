/**
 * The torch.save format before PyTorch 1.6 (still written with `_use_new_zipfile_serialization=False`):
 * five pickles in a row (magic number, protocol version, system info, the object, the sorted storage
 * keys), then each storage as an 8-byte element count followed by its raw bytes, in key order.
 */
import { inputError, isCxrError } from '../errors.js';
import { DTYPE_BYTES } from './dtype.js';
import { RandomAccessFile } from './file.js';
import { unpickleAt } from './pickle.js';
import {
  selectKey,
  storageId,
  TORCH_GLOBALS,
  TorchCheckpoint,
  type TorchLoadOptions,
  type TorchStorage,
  tensorEntries,
  unpickleCheckpoint,
} from './torch.js';
import type { TensorDtype } from './types.js';

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;
/** The pickles sit before the data; read this much first and double until they parse. */
const FIRST_READ = 1 << 20;
const STORAGE_COUNT_BYTES = 8;

interface LegacyStorage extends TorchStorage {
  /** Key of the root storage and element offset, for old storage views. */
  rootKey: string;
  viewOffset: number;
}

export async function openTorchLegacy(path: string, opts: TorchLoadOptions = {}): Promise<TorchCheckpoint> {
  const file = await RandomAccessFile.open(path);
  try {
    const storages = new Map<string, LegacyStorage>();
    const { root, keys, littleEndian, end } = await readPickles(file, storages);
    const offsets = await locateStorages(file, end, keys, storages, littleEndian);
    const sizeOf = (key: string) => {
      const s = storages.get(key)!;
      return offsets.get(s.rootKey)!.bytes - s.viewOffset * DTYPE_BYTES[s.dtype];
    };
    for (const s of storages.values()) {
      const base = offsets.get(s.rootKey);
      if (!base)
        throw inputError('weights.bad_tensor', 'storage not in the key list', { file: path, field: s.key });
      const start = base.offset + s.viewOffset * DTYPE_BYTES[s.dtype];
      s.read = async (o, n) => {
        if (o + n > sizeOf(s.key)) {
          throw inputError('weights.truncated', 'read past the end of a storage', {
            file: path,
            field: s.key,
          });
        }
        return file.read(start + o, n, `storage ${s.key}`);
      };
    }
    const entries = tensorEntries(path, selectKey(path, root, opts.key), sizeOf, !littleEndian);
    return new TorchCheckpoint(path, root, entries, () => file.close());
  } catch (e) {
    await file.close();
    throw e;
  }
}

async function readPickles(file: RandomAccessFile, storages: Map<string, LegacyStorage>) {
  for (let len = Math.min(FIRST_READ, file.size); ; len = Math.min(len * 2, file.size)) {
    const bytes = await file.read(0, len, 'legacy checkpoint header');
    try {
      return parsePickles(file.path, bytes, storages);
    } catch (e) {
      if (!(isCxrError(e) && e.code === 'weights.truncated' && len < file.size)) throw e;
      storages.clear();
    }
  }
}

function parsePickles(path: string, bytes: Uint8Array, storages: Map<string, LegacyStorage>) {
  const plain = { file: path, globals: TORCH_GLOBALS };
  const magic = unpickleAt(bytes, 0, plain);
  if (BigInt(magic.value as number | bigint) !== LEGACY_MAGIC) {
    throw inputError('weights.bad_pickle', 'not a torch.save file (bad magic number)', { file: path });
  }
  const protocol = unpickleAt(bytes, magic.end, plain);
  if (protocol.value !== LEGACY_PROTOCOL) {
    throw inputError('weights.bad_pickle', 'unsupported legacy torch protocol', {
      file: path,
      expected: String(LEGACY_PROTOCOL),
      found: String(protocol.value),
    });
  }
  const sysInfo = unpickleAt(bytes, protocol.end, plain);
  const littleEndian = !(sysInfo.value instanceof Map) || sysInfo.value.get('little_endian') !== false;
  const root = unpickleCheckpoint(bytes, path, 'object', (pid) => legacyStorage(pid, storages), sysInfo.end);
  const keys = unpickleAt(bytes, root.end, plain);
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string')) {
    throw inputError('weights.bad_pickle', 'storage key list is not a list of strings', { file: path });
  }
  return { root: root.value, keys: keys.value as string[], littleEndian, end: keys.end };
}

/** Persistent id ('storage', type, key, location, numel, view_metadata); old views are (view_key, offset, size). */
function legacyStorage(pid: unknown, storages: Map<string, LegacyStorage>): LegacyStorage {
  const { dtype, key, numel } = storageId(pid);
  const view = Array.isArray(pid) ? pid[5] : null;
  const viewKey = Array.isArray(view) ? String(view[0]) : key;
  const viewOffset = Array.isArray(view) ? Number(view[1]) : 0;
  let s = storages.get(viewKey);
  if (!s) {
    s = { kind: 'storage', key: viewKey, dtype, numel, rootKey: key, viewOffset, read: notLocated };
    storages.set(viewKey, s);
  }
  return s;
}

async function notLocated(): Promise<Uint8Array> {
  throw new Error('storage read before its offset was known');
}

/** Walk the storage records after the pickles: each is an element count and the bytes. */
async function locateStorages(
  file: RandomAccessFile,
  start: number,
  keys: string[],
  storages: Map<string, LegacyStorage>,
  littleEndian: boolean,
): Promise<Map<string, { offset: number; bytes: number }>> {
  const dtypeOf = new Map<string, TensorDtype>();
  for (const s of storages.values()) dtypeOf.set(s.rootKey, s.dtype);
  const out = new Map<string, { offset: number; bytes: number }>();
  let pos = start;
  for (const key of keys) {
    const dtype = dtypeOf.get(key);
    if (!dtype)
      throw inputError('weights.bad_pickle', 'storage key not used by any tensor', {
        file: file.path,
        field: key,
      });
    const count = await file.read(pos, STORAGE_COUNT_BYTES, `size of storage ${key}`);
    const numel = Number(new DataView(count.buffer).getBigInt64(0, littleEndian));
    const bytes = numel * DTYPE_BYTES[dtype];
    if (numel < 0 || pos + STORAGE_COUNT_BYTES + bytes > file.size) {
      throw inputError('weights.truncated', 'storage data lies past the end of the file', {
        file: file.path,
        field: key,
      });
    }
    out.set(key, { offset: pos + STORAGE_COUNT_BYTES, bytes });
    pos += STORAGE_COUNT_BYTES + bytes;
  }
  return out;
}
