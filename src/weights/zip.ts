/**
 * The part of the ZIP format torch.save uses: stored (uncompressed) entries, ZIP64 for archives and
 * entries past 4 GiB. Only the end records and the central directory are read when opening; an
 * entry's local header is read when its data is first needed.
 */
import { inputError } from '../errors.js';
import type { RandomAccessFile } from './file.js';

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_SIZE = 22;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIZE = 56;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
/** The EOCD may be followed by a comment of up to 65535 bytes. */
const MAX_COMMENT = 0xffff;
const ZIP64_EXTRA_ID = 0x0001;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;
const METHOD_STORED = 0;

export interface ZipEntry {
  name: string;
  /** Offset of the local file header. */
  headerOffset: number;
  size: number;
  method: number;
}

export class ZipArchive {
  private readonly dataOffsets = new Map<string, number>();

  private constructor(
    readonly file: RandomAccessFile,
    readonly entries: Map<string, ZipEntry>,
  ) {}

  static async open(file: RandomAccessFile): Promise<ZipArchive> {
    try {
      const { cdOffset, cdSize, count } = await readEndRecords(file);
      const cd = await file.read(cdOffset, cdSize, 'zip central directory');
      return new ZipArchive(file, parseCentralDirectory(file.path, cd, count, file.size));
    } catch (e) {
      // a field pointing outside its record surfaces as a RangeError from DataView
      if (e instanceof RangeError) {
        throw inputError('weights.bad_zip', `damaged zip records (${e.message})`, {
          file: file.path,
          cause: e,
        });
      }
      throw e;
    }
  }

  entry(name: string): ZipEntry {
    const e = this.entries.get(name);
    if (!e) throw inputError('weights.bad_zip', 'zip entry missing', { file: this.file.path, field: name });
    return e;
  }

  /** `length` bytes at `offset` inside entry `name`. */
  async read(name: string, offset = 0, length?: number): Promise<Uint8Array> {
    const e = this.entry(name);
    const len = length ?? e.size - offset;
    if (offset < 0 || offset + len > e.size) {
      throw inputError('weights.truncated', 'read past the end of a zip entry', {
        file: this.file.path,
        field: name,
        expected: `bytes ${offset}..${offset + len}`,
        found: `entry size ${e.size}`,
      });
    }
    return this.file.read((await this.dataOffset(e)) + offset, len, `zip entry ${name}`);
  }

  private async dataOffset(e: ZipEntry): Promise<number> {
    const known = this.dataOffsets.get(e.name);
    if (known !== undefined) return known;
    if (e.method !== METHOD_STORED) {
      throw inputError('weights.bad_zip', 'compressed zip entry (torch.save writes stored entries)', {
        file: this.file.path,
        field: e.name,
        expected: 'method 0 (stored)',
        found: `method ${e.method}`,
      });
    }
    const h = await this.file.read(e.headerOffset, LOCAL_SIZE, `local header of ${e.name}`);
    const v = view(h);
    if (v.getUint32(0, true) !== LOCAL_SIG) {
      throw inputError('weights.bad_zip', 'bad local header signature', {
        file: this.file.path,
        field: e.name,
      });
    }
    const offset = e.headerOffset + LOCAL_SIZE + v.getUint16(26, true) + v.getUint16(28, true);
    if (offset + e.size > this.file.size) {
      throw inputError('weights.truncated', 'zip entry data lies past the end of the file', {
        file: this.file.path,
        field: e.name,
        expected: `${offset + e.size} bytes`,
        found: `${this.file.size}`,
      });
    }
    this.dataOffsets.set(e.name, offset);
    return offset;
  }
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function u64(v: DataView, at: number): number {
  const n = v.getBigUint64(at, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('64-bit zip field too large');
  return Number(n);
}

async function readEndRecords(
  file: RandomAccessFile,
): Promise<{ cdOffset: number; cdSize: number; count: number }> {
  const notZip = (why: string) =>
    inputError('weights.bad_zip', `not a zip archive or truncated (${why})`, { file: file.path });
  if (file.size < EOCD_SIZE) throw notZip('too short');
  const tailLen = Math.min(file.size, EOCD_SIZE + MAX_COMMENT + ZIP64_LOCATOR_SIZE);
  const tailStart = file.size - tailLen;
  const tail = await file.read(tailStart, tailLen, 'zip end records');
  const tv = view(tail);
  let eocd = -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (tv.getUint32(i, true) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw notZip('no end-of-central-directory record');
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  const locator = eocd - ZIP64_LOCATOR_SIZE;
  if (locator >= 0 && tv.getUint32(locator, true) === ZIP64_LOCATOR_SIG) {
    const z64Offset = u64(tv, locator + 8);
    const z = view(await file.read(z64Offset, ZIP64_EOCD_SIZE, 'zip64 end record'));
    if (z.getUint32(0, true) !== ZIP64_EOCD_SIG) throw notZip('bad zip64 end record');
    count = u64(z, 32);
    cdSize = u64(z, 40);
    cdOffset = u64(z, 48);
  } else if (count === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX) {
    throw notZip('zip64 fields without a zip64 locator');
  }
  if (cdOffset + cdSize > file.size) {
    throw inputError('weights.truncated', 'zip central directory lies past the end of the file', {
      file: file.path,
      expected: `${cdOffset + cdSize} bytes`,
      found: `${file.size}`,
    });
  }
  return { cdOffset, cdSize, count };
}

function parseCentralDirectory(
  path: string,
  cd: Uint8Array,
  count: number,
  fileSize: number,
): Map<string, ZipEntry> {
  const v = view(cd);
  const entries = new Map<string, ZipEntry>();
  const decoder = new TextDecoder();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_SIZE > cd.length || v.getUint32(p, true) !== CENTRAL_SIG) {
      throw inputError('weights.bad_zip', `central directory entry ${i} is damaged`, { file: path });
    }
    const method = v.getUint16(p + 10, true);
    let size = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    let headerOffset = v.getUint32(p + 42, true);
    const name = decoder.decode(cd.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen));
    const extra = cd.subarray(p + CENTRAL_SIZE + nameLen, p + CENTRAL_SIZE + nameLen + extraLen);
    if (size === U32_MAX || headerOffset === U32_MAX) {
      const z = zip64Extra(extra, {
        size: size === U32_MAX,
        csize: v.getUint32(p + 20, true) === U32_MAX,
        offset: headerOffset === U32_MAX,
      });
      if (!z) throw inputError('weights.bad_zip', 'zip64 sizes missing', { file: path, field: name });
      size = z.size ?? size;
      headerOffset = z.offset ?? headerOffset;
    }
    if (headerOffset + LOCAL_SIZE > fileSize) {
      throw inputError('weights.truncated', 'zip entry lies past the end of the file', {
        file: path,
        field: name,
        expected: `offset < ${fileSize}`,
        found: String(headerOffset),
      });
    }
    entries.set(name, { name, headerOffset, size, method });
    p += CENTRAL_SIZE + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** The ZIP64 extended information field holds, in order, only the values whose 32-bit fields overflowed. */
function zip64Extra(
  extra: Uint8Array,
  has: { size: boolean; csize: boolean; offset: boolean },
): { size?: number; offset?: number } | undefined {
  const v = view(extra);
  for (let p = 0; p + 4 <= extra.length; ) {
    const id = v.getUint16(p, true);
    const len = v.getUint16(p + 2, true);
    if (id === ZIP64_EXTRA_ID) {
      let q = p + 4;
      const out: { size?: number; offset?: number } = {};
      if (has.size) {
        out.size = u64(v, q);
        q += 8;
      }
      if (has.csize) q += 8;
      if (has.offset) out.offset = u64(v, q);
      return out;
    }
    p += 4 + len;
  }
  return undefined;
}
