import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { inputError } from '../errors.js';

/**
 * Write through a temporary file and rename, so an interrupted run never leaves half a report. The chunks may
 * come lazily (an async generator labelling reports as it reads them): an error from them passes through as it
 * is, while an error writing the file (a missing folder, a full disk) becomes an input error naming the file.
 */
export async function writeAtomic(
  path: string,
  chunks: Iterable<string> | AsyncIterable<string>,
): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const cannotWrite = async (e: unknown) => {
    await rm(tmp, { force: true });
    return inputError('eval.cannot_write', (e as Error).message, { file: path, cause: e });
  };
  const out = createWriteStream(tmp, { encoding: 'utf8' });
  let writeError: unknown;
  out.on('error', (e) => {
    writeError = e;
  });
  try {
    await pipeline(Readable.from(chunks), out);
  } catch (e) {
    if (e === writeError) throw await cannotWrite(e);
    await rm(tmp, { force: true });
    throw e;
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    throw await cannotWrite(e);
  }
}
