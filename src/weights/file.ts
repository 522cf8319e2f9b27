/**
 * Positioned reads on a local file: the weight readers never load a file whole, they read the index
 * (header, central directory, pickle) and then each tensor's bytes where they lie, at any offset.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { inputError } from '../errors.js';

/** fs reads are limited to 2 GiB - 1 per call; larger ranges are read in chunks of this size. */
const MAX_READ_CHUNK = 1 << 30;

export class RandomAccessFile {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}

  static async open(path: string): Promise<RandomAccessFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw inputError(
        code === 'ENOENT' ? 'weights.missing_file' : 'weights.unreadable',
        code === 'ENOENT' ? 'file not found' : `cannot open (${code ?? String(e)})`,
        { file: path, cause: e },
      );
    }
    const { size } = await handle.stat();
    return new RandomAccessFile(path, handle, size);
  }

  /** Exactly `length` bytes at `offset`, in a fresh (8-byte aligned) buffer; throws if the file is shorter. */
  async read(offset: number, length: number, what = 'data'): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw inputError('weights.truncated', `${what} lies past the end of the file`, {
        file: this.path,
        expected: `bytes ${offset}..${offset + length}`,
        found: `file size ${this.size}`,
      });
    }
    // every byte is overwritten by the read: skip zero-filling (its own ArrayBuffer, so offset 0, aligned)
    const raw = Buffer.allocUnsafeSlow(length);
    const out = new Uint8Array(raw.buffer, raw.byteOffset, length);
    let done = 0;
    while (done < length) {
      const want = Math.min(MAX_READ_CHUNK, length - done);
      const { bytesRead } = await this.handle.read(out, done, want, offset + done);
      if (bytesRead === 0)
        throw inputError('weights.truncated', `short read of ${what}`, { file: this.path });
      done += bytesRead;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
