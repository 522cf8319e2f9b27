/** writeAtomic: all or nothing at the destination, write failures as input errors naming the file. */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeAtomic } from '../../src/cli/output.js';
import { CxrError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'cxr-write-atomic-'));
/** Far past a stream's 16 KiB buffer, so the writer must wait for the file to drain. */
const MANY_LINES = 20_000;

async function* lazy(lines: string[], failAfter?: number): AsyncGenerator<string> {
  for (const [i, line] of lines.entries()) {
    if (i === failAfter) throw new Error('the input broke');
    yield line;
  }
}

describe('writeAtomic', () => {
  const lines = Array.from({ length: MANY_LINES }, (_, i) => `line ${i}\n`);

  it('writes bytes whole', async () => {
    const bytes = Uint8Array.from({ length: 100_000 }, (_, i) => i % 251);
    await writeAtomic(join(dir, 'bytes.bin'), [bytes]);
    expect(new Uint8Array(readFileSync(join(dir, 'bytes.bin')))).toEqual(bytes);
  });

  it('writes sync and async chunks in order, leaving only the destination', async () => {
    await writeAtomic(join(dir, 'sync.txt'), lines);
    await writeAtomic(join(dir, 'async.txt'), lazy(lines));
    expect(readFileSync(join(dir, 'sync.txt'), 'utf8')).toBe(lines.join(''));
    expect(readFileSync(join(dir, 'async.txt'), 'utf8')).toBe(lines.join(''));
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('a folder that does not exist: an input error naming the file (it used to crash the process)', async () => {
    const path = join(dir, 'missing', 'out.jsonl');
    const e = await writeAtomic(path, lines).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CxrError);
    expect((e as CxrError).code).toBe('eval.cannot_write');
    expect((e as CxrError).file).toBe(path);
  });

  it('a destination that is a folder: an input error, no temporary file left', async () => {
    const e = await writeAtomic(dir, ['x']).catch((x: unknown) => x);
    expect((e as CxrError).code).toBe('eval.cannot_write');
    expect(readdirSync(join(dir, '..')).filter((f) => f.startsWith(`${dir.split('/').at(-1)}.tmp-`))).toEqual(
      [],
    );
  });

  it('an error from the chunks passes through unchanged and leaves nothing behind', async () => {
    const path = join(dir, 'broken.txt');
    await expect(writeAtomic(path, lazy(lines, 5))).rejects.toThrow('the input broke');
    expect(readdirSync(dir).filter((f) => f.startsWith('broken.txt'))).toEqual([]);
  });
});
