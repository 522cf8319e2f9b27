import { createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { inputError } from '../errors.js';

/** Write through a temporary file and rename, so an interrupted run never leaves half a report. */
export async function writeAtomic(path: string, chunks: Iterable<string>): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const out = createWriteStream(tmp, { encoding: 'utf8' });
  const done = new Promise<void>((ok, fail) => {
    out.on('finish', ok);
    out.on('error', fail);
  });
  for (const chunk of chunks) {
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  out.end();
  try {
    await done;
  } catch (e) {
    throw inputError('eval.cannot_write', (e as Error).message, { file: path });
  }
  await rename(tmp, path);
}
