/**
 * Streaming input: files are read in chunks and split into lines on bytes, and each line is decoded as strict
 * UTF-8, so a 200k-report file is never held as one string and a bad byte is reported with its line number
 * instead of being silently replaced by U+FFFD.
 */
import { createReadStream } from 'node:fs';
import { inputError, isCxrError } from '../errors.js';

const CHUNK_BYTES = 1 << 20;
const NEWLINE = 0x0a;
const CR = 0x0d;
const BOM = '\ufeff';

export interface Line {
  text: string;
  /** 1-based line number */
  number: number;
}

/** Lines of a file without their terminators (LF or CRLF); a UTF-8 BOM at the start is dropped. */
export async function* readLines(file: string): AsyncGenerator<Line> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const decode = (bytes: Uint8Array, number: number): string => {
    const end = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
    try {
      const text = decoder.decode(bytes.subarray(0, end));
      return number === 1 && text.startsWith(BOM) ? text.slice(1) : text;
    } catch {
      throw inputError('eval.bad_utf8', `line ${number} is not valid UTF-8`, {
        file,
        expected: 'UTF-8 text',
        found: `invalid byte sequence at byte offset ${firstBadByte(bytes)} of the line`,
      });
    }
  };
  let pending: Buffer = Buffer.alloc(0);
  let number = 0;
  let stream: AsyncIterable<Buffer>;
  try {
    stream = createReadStream(file, { highWaterMark: CHUNK_BYTES });
  } catch (e) {
    throw inputError('eval.unreadable', (e as Error).message, { file });
  }
  try {
    for await (const chunk of stream) {
      let data = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      let start = 0;
      for (let nl = data.indexOf(NEWLINE, start); nl !== -1; nl = data.indexOf(NEWLINE, start)) {
        number++;
        yield { text: decode(data.subarray(start, nl), number), number };
        start = nl + 1;
      }
      data = data.subarray(start);
      pending = Buffer.from(data);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (!isCxrError(e) && code === 'EISDIR')
      throw inputError('eval.is_folder', 'is a folder', { file, expected: 'a file' });
    if (!isCxrError(e) && code !== undefined) {
      throw inputError('eval.unreadable', `cannot read: ${(e as Error).message}`, { file });
    }
    throw e;
  }
  if (pending.length > 0) {
    number++;
    yield { text: decode(pending, number), number };
  }
}

function firstBadByte(bytes: Uint8Array): number {
  // feed one byte at a time: the streaming decoder throws at the first byte that cannot continue a sequence
  const d = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < bytes.length; i++) {
    try {
      d.decode(bytes.subarray(i, i + 1), { stream: true });
    } catch {
      return sequenceStart(bytes, i);
    }
  }
  return bytes.length;
}

/** The decoder fails on the byte after an incomplete sequence: point at the sequence's lead byte instead. */
function sequenceStart(bytes: Uint8Array, failedAt: number): number {
  const LEAD = 0xc0;
  const ASCII_END = 0x80;
  for (let k = failedAt - 1; k >= Math.max(0, failedAt - 3); k--) {
    if (bytes[k]! >= LEAD) return k;
    if (bytes[k]! < ASCII_END) break;
  }
  return failedAt;
}
