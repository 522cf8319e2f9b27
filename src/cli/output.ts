import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { inputError } from '../errors.js';

type Chunk = string | Uint8Array;

/**
 * Every file the commands write goes through here: a temporary file renamed into place, so an interrupted run
 * never leaves half a file. The chunks may come lazily (an async generator labelling reports as it reads them):
 * an error from them passes through as it is, while an error writing the file (a missing folder, a full disk)
 * becomes an input error naming the file (code `eval.cannot_write`, as the eval commands have always reported).
 */
export async function writeAtomic(
  path: string,
  chunks: Iterable<Chunk> | AsyncIterable<Chunk>,
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
