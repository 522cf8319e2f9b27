/**
 * TensorSource building blocks: a source over a table of lazily read entries, and views that select,
 * rename or combine sources without reading any tensor data.
 */
import { inputError } from '../errors.js';
import { toFloat32 } from './dtype.js';
import type { TensorInfo, TensorSource } from './types.js';

/** One tensor that can be read on demand. */
export interface TensorEntry {
  info: TensorInfo;
  /** Stored-dtype bytes, little-endian, C order. */
  read(): Promise<Uint8Array>;
}

/** A TensorSource over a name -> entry table. */
export class EntrySource implements TensorSource {
  constructor(
    readonly origin: string,
    private readonly entries: Map<string, TensorEntry>,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {}

  list(): TensorInfo[] {
    return [...this.entries.values()].map((e) => e.info);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  info(name: string): TensorInfo {
    return this.entry(name).info;
  }

  async readBytes(name: string): Promise<Uint8Array> {
    return this.entry(name).read();
  }

  async readFloat32(name: string): Promise<Float32Array> {
    const e = this.entry(name);
    return toFloat32(await e.read(), e.info.dtype);
  }

  close(): Promise<void> {
    return this.onClose();
  }

  private entry(name: string): TensorEntry {
    const e = this.entries.get(name);
    if (!e) throw missingTensor(this.origin, name);
    return e;
  }
}

export function missingTensor(origin: string, name: string) {
  return inputError('weights.missing_tensor', 'no such tensor', { file: origin, field: name });
}

/** Entries of `source`, re-exposed as a table (for building views). */
export function entriesOf(source: TensorSource): Map<string, TensorEntry> {
  const out = new Map<string, TensorEntry>();
  for (const info of source.list()) {
    out.set(info.name, { info, read: () => source.readBytes(info.name) });
  }
  return out;
}

/**
 * The tensors of `source` whose names start with `prefix`, renamed without it. Closing the view does
 * not close the underlying source (several views share one file).
 */
export function prefixView(source: TensorSource, prefix: string, origin = source.origin): TensorSource {
  const entries = new Map<string, TensorEntry>();
  for (const info of source.list()) {
    if (!info.name.startsWith(prefix)) continue;
    const name = info.name.slice(prefix.length);
    entries.set(name, { info: { ...info, name }, read: () => source.readBytes(info.name) });
  }
  return new EntrySource(origin, entries);
}
