import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPairs, replaceNonFinite } from '../../src/eval/index.js';

const dir = mkdtempSync(join(tmpdir(), 'cxr-input-'));

describe('streaming input', () => {
  it('decodes multi-byte characters split across read chunks and reports progress on long files', async () => {
    // 60,000 rows of ~40 bytes each span several 1 MiB chunks; the text has 2-, 3- and 4-byte characters
    const rows = 60_000;
    const text = 'Pleural effusion – µ 胸 😀 é';
    const lines: string[] = [];
    for (let i = 0; i < rows; i++)
      lines.push(JSON.stringify({ id: i, prediction: `${text} ${i}`, reference: text }));
    const path = join(dir, 'big.jsonl');
    writeFileSync(path, lines.join('\n'));
    const progress: string[] = [];
    const pairs = await readPairs({ pred: path, onProgress: (m) => progress.push(m) });
    expect(pairs.ids).toHaveLength(rows);
    expect(pairs.predictions[rows - 1]).toBe(`${text} ${rows - 1}`);
    expect(pairs.predictions.every((p, i) => p === `${text} ${i}`)).toBe(true);
    expect(progress).toEqual([`read 50,000 rows of ${path}`]);
  });
  it('accepts CRLF line ends and a UTF-8 byte-order mark', async () => {
    const path = join(dir, 'crlf.jsonl');
    writeFileSync(
      path,
      '\ufeff{"id":"a","prediction":"x","reference":"y"}\r\n{"id":"b","prediction":"x","reference":"y"}\r\n',
    );
    const pairs = await readPairs({ pred: path });
    expect(pairs.ids).toEqual(['a', 'b']);
    expect(pairs.references).toEqual(['y', 'y']);
  });
});

describe('bare NaN / Infinity literals', () => {
  it('are replaced outside strings only', () => {
    expect(replaceNonFinite('{"a": NaN, "b": "NaN and Infinity", "c": -Infinity, "d": [Infinity]}')).toBe(
      '{"a": null, "b": "NaN and Infinity", "c": null, "d": [null]}',
    );
    expect(replaceNonFinite('{"a": "say \\"NaN\\"", "b": 1}')).toBeNull();
  });
});
