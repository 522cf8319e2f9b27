/**
 * PyTorch checkpoints written by torch.save (zip format: `<archive>/data.pkl`, `<archive>/data/<key>`,
 * `<archive>/byteorder`). The pickle is run by the allow-list VM in pickle.ts; tensors become
 * references (storage key, offset, shape, stride) and their bytes are read only when asked for.
 */
import { inputError } from '../errors.js';
import { DTYPE_BYTES, numelOf, swapBytesInPlace } from './dtype.js';
import { RandomAccessFile } from './file.js';
import { type PyGlobal, unpickleAt } from './pickle.js';
import { EntrySource, type TensorEntry } from './source.js';
import type { TensorDtype } from './types.js';
import { ZipArchive } from './zip.js';

/** torch's typed storage classes and the element type each holds. */
const STORAGE_DTYPES: Record<string, TensorDtype> = {
  DoubleStorage: 'F64',
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

/** A storage as the pickle names it; `read` fetches a byte range of it. */
export interface TorchStorage {
  readonly kind: 'storage';
  key: string;
  dtype: TensorDtype;
  numel: number;
  read(byteOffset: number, byteLength: number): Promise<Uint8Array>;
}

/** A tensor as `_rebuild_tensor_v2` describes it: a strided view into a storage (offsets in elements). */
export class TorchTensor {
  constructor(
    readonly storage: TorchStorage,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

class StorageType implements PyGlobal {
  readonly module = 'torch';
  constructor(
    readonly name: string,
    readonly dtype: TensorDtype,
  ) {}
  call(): never {
    throw inputError('weights.unsafe_pickle', `unsafe pickle: torch.${this.name} called directly`);
  }
}

function global(module: string, name: string, call: (args: unknown[]) => unknown): PyGlobal {
  return { module, name, call };
}

function intList(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw inputError('weights.bad_pickle', `${what} is not a tuple of non-negative integers`, {
      found: String(v),
    });
  }
  return v as number[];
}

function rebuildTensor(args: unknown[]): TorchTensor {
  const [storage, offset, size, stride] = args;
  if (!(typeof storage === 'object' && storage !== null && (storage as TorchStorage).kind === 'storage')) {
    throw inputError('weights.bad_pickle', 'tensor rebuilt from something that is not a storage');
  }
  const shape = intList(size, 'tensor size');
  const strides = intList(stride, 'tensor stride');
  if (shape.length !== strides.length)
    throw inputError('weights.bad_pickle', 'tensor size and stride ranks differ');
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) {
    throw inputError('weights.bad_pickle', 'tensor storage offset is not a non-negative integer');
  }
  return new TorchTensor(storage as TorchStorage, offset as number, shape, strides);
}

/** Everything a checkpoint pickle may name. Any other global is refused by the VM. */
export const TORCH_GLOBALS: ReadonlyMap<string, PyGlobal> = new Map<string, PyGlobal>([
  ...Object.entries(STORAGE_DTYPES).map(
    ([n, d]) => [`torch.${n}`, new StorageType(n, d)] as [string, PyGlobal],
  ),
  ['torch._utils._rebuild_tensor', global('torch._utils', '_rebuild_tensor', rebuildTensor)],
  ['torch._utils._rebuild_tensor_v2', global('torch._utils', '_rebuild_tensor_v2', rebuildTensor)],
  // a Parameter is its data; requires_grad and hooks do not matter for weights
  ['torch._utils._rebuild_parameter', global('torch._utils', '_rebuild_parameter', (a) => a[0])],
  [
    'torch._utils._rebuild_parameter_with_state',
    global('torch._utils', '_rebuild_parameter_with_state', (a) => a[0]),
  ],
  ['collections.OrderedDict', global('collections', 'OrderedDict', orderedDict)],
  // sets (protocols 0-2 name the builtins module `__builtin__`)
  ...['builtins', '__builtin__'].flatMap((m) =>
    ['set', 'frozenset'].map(
      (n) =>
        [`${m}.${n}`, global(m, n, (a) => new Set(Array.isArray(a[0]) ? a[0] : []))] as [string, PyGlobal],
    ),
  ),
  // protocol 2 writes Python 3 bytes as _codecs.encode(text, 'latin1')
  ['_codecs.encode', global('_codecs', 'encode', latin1Encode)],
]);

function orderedDict(args: unknown[]): Map<unknown, unknown> {
  const m = new Map<unknown, unknown>();
  const items = args[0];
  if (Array.isArray(items))
    for (const kv of items) if (Array.isArray(kv) && kv.length === 2) m.set(kv[0], kv[1]);
  return m;
}

function latin1Encode(args: unknown[]): Uint8Array {
  const [text, encoding] = args;
  if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) {
    throw inputError(
      'weights.unsafe_pickle',
      'unsafe pickle: _codecs.encode used other than for latin-1 bytes',
    );
  }
  return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
}

/** BUILD is allowed only to attach attributes (OrderedDict `_metadata`), which weights do not need. */
function buildState(obj: unknown, _state: unknown): unknown {
  if (obj instanceof Map || obj instanceof TorchTensor) return obj;
  throw inputError('weights.unsafe_pickle', 'unsafe pickle: BUILD on an object that is not a dict or tensor');
}

/** Parse a storage persistent id: ('storage', storage_type, key, location, numel). */
export function storageId(pid: unknown): { dtype: TensorDtype; key: string; numel: number } {
  if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5 || !(pid[1] instanceof StorageType)) {
    throw inputError('weights.bad_pickle', 'persistent id is not a torch storage', { found: String(pid) });
  }
  const numel = pid[4];
  if (!Number.isSafeInteger(numel) || numel < 0)
    throw inputError('weights.bad_pickle', 'storage size is not an integer');
  return { dtype: pid[1].dtype, key: String(pid[2]), numel };
}

export interface TorchLoadOptions {
  /** Dotted key path of the sub-dict holding the tensors (e.g. `state_dict`); default: the whole pickle. */
  key?: string;
}

/** A loaded checkpoint: the unpickled object (tensors as TorchTensor) and its tensors as a TensorSource. */
export class TorchCheckpoint extends EntrySource {
  constructor(
    origin: string,
    readonly root: unknown,
    entries: Map<string, TensorEntry>,
    onClose: () => Promise<void>,
  ) {
    super(origin, entries, onClose);
  }
}

/** The allow-listed unpickling shared by the zip and legacy formats; returns the object and its end. */
export function unpickleCheckpoint(
  data: Uint8Array,
  file: string,
  entry: string,
  persistentLoad: (pid: unknown) => unknown,
  start = 0,
): { value: unknown; end: number } {
  return unpickleAt(data, start, { file, entry, globals: TORCH_GLOBALS, persistentLoad, build: buildState });
}

/** Open a torch.save zip checkpoint (`.bin`, `.pt`, `.pth`) lazily. */
export async function openTorchZip(path: string, opts: TorchLoadOptions = {}): Promise<TorchCheckpoint> {
  const file = await RandomAccessFile.open(path);
  try {
    const zip = await ZipArchive.open(file);
    const pkl = [...zip.entries.keys()].find((n) => n === 'data.pkl' || /^[^/]*\/data\.pkl$/.test(n));
    if (!pkl) throw inputError('weights.bad_zip', 'no data.pkl: not a torch.save archive', { file: path });
    const prefix = pkl.slice(0, -'data.pkl'.length);
    const bigEndian = await readByteOrder(zip, `${prefix}byteorder`);
    const storages = new Map<string, TorchStorage>();
    const { value: root } = unpickleCheckpoint(await zip.read(pkl), path, pkl, (pid) => {
      const { dtype, key, numel } = storageId(pid);
      const name = `${prefix}data/${key}`;
      let s = storages.get(key);
      if (!s) {
        s = { kind: 'storage', key: name, dtype, numel, read: (o, n) => zip.read(name, o, n) };
        storages.set(key, s);
      }
      return s;
    });
    const entries = tensorEntries(
      path,
      selectKey(path, root, opts.key),
      (name) => zip.entry(name).size,
      bigEndian,
    );
    return new TorchCheckpoint(path, root, entries, () => file.close());
  } catch (e) {
    await file.close();
    throw e;
  }
}

async function readByteOrder(zip: ZipArchive, name: string): Promise<boolean> {
  if (!zip.entries.has(name)) return false; // written before the marker existed: little-endian machines
  const order = new TextDecoder().decode(await zip.read(name)).trim();
  if (order !== 'little' && order !== 'big') {
    throw inputError('weights.bad_zip', 'unknown byte order marker', {
      file: zip.file.path,
      field: name,
      found: order,
    });
  }
  return order === 'big';
}

/** The sub-object at a dotted key path. */
export function selectKey(file: string, root: unknown, key: string | undefined): unknown {
  if (!key) return root;
  let node = root;
  for (const part of key.split('.')) {
    if (!(node instanceof Map) || !node.has(part)) {
      throw inputError('weights.missing_key', 'checkpoint has no such key', { file, field: key });
    }
    node = node.get(part);
  }
  return node;
}

/** Every tensor under `node`, named by its dotted path; each entry validated against its storage. */
export function tensorEntries(
  file: string,
  node: unknown,
  storageBytes: (storageKey: string) => number,
  bigEndian: boolean,
): Map<string, TensorEntry> {
  const out = new Map<string, TensorEntry>();
  // iterative walk with a seen-set: a crafted pickle can nest containers deeply or make them cycle
  const seen = new Set<unknown>();
  const stack: [unknown, string][] = [[node, '']];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    const child = (k: unknown) => (path ? `${path}.${String(k)}` : String(k));
    if (v instanceof TorchTensor) {
      out.set(path, tensorEntry(file, path, v, storageBytes, bigEndian));
    } else if ((v instanceof Map || Array.isArray(v)) && !seen.has(v)) {
      seen.add(v);
      const items = v instanceof Map ? [...v] : v.map((x, i) => [i, x] as const);
      for (let i = items.length - 1; i >= 0; i--) stack.push([items[i]![1], child(items[i]![0])]);
    }
  }
  return out;
}

function tensorEntry(
  file: string,
  name: string,
  t: TorchTensor,
  storageBytes: (storageKey: string) => number,
  bigEndian: boolean,
): TensorEntry {
  const { dtype } = t.storage;
  const es = DTYPE_BYTES[dtype];
  const bad = (message: string, expected: string, found: string) =>
    inputError('weights.bad_tensor', message, { file, field: name, expected, found });
  const have = storageBytes(t.storage.key);
  if (have < t.storage.numel * es) {
    throw bad('storage is shorter than its declared size', `${t.storage.numel * es} bytes`, `${have}`);
  }
  const numel = numelOf(t.shape);
  const last = numel === 0 ? t.offset : t.offset + t.shape.reduce((s, d, i) => s + (d - 1) * t.stride[i]!, 0);
  if (numel > 0 && last >= t.storage.numel) {
    throw bad('tensor extends past the end of its storage', `elements < ${t.storage.numel}`, `up to ${last}`);
  }
  return {
    info: { name, dtype, shape: [...t.shape] },
    read: async () => {
      const bytes = await readStrided(t, es, numel, last);
      if (bigEndian) swapBytesInPlace(bytes, es);
      return bytes;
    },
  };
}

function isContiguous(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expected) return false;
    expected *= shape[i]!;
  }
  return true;
}

/** A view's bytes in C order: one read of the span it covers, then a gather when strides are not C order. */
async function readStrided(t: TorchTensor, es: number, numel: number, last: number): Promise<Uint8Array> {
  if (numel === 0) return new Uint8Array(0);
  if (isContiguous(t.shape, t.stride)) return t.storage.read(t.offset * es, numel * es);
  const span = await t.storage.read(t.offset * es, (last - t.offset + 1) * es);
  const out = new Uint8Array(numel * es);
  let o = 0;
  const rank = t.shape.length;
  const walk = (dim: number, base: number) => {
    const n = t.shape[dim]!;
    const step = t.stride[dim]! * es;
    if (dim === rank - 1) {
      for (let i = 0, p = base; i < n; i++, p += step) {
        out.set(span.subarray(p, p + es), o);
        o += es;
      }
      return;
    }
    for (let i = 0; i < n; i++) walk(dim + 1, base + i * step);
  };
  walk(0, 0);
  return out;
}
