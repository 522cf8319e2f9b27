import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AnswerCache, type CacheKeyParts, cacheKey } from '../../src/judge/index.js';

const dir = mkdtempSync(join(tmpdir(), 'cxr-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const parts: CacheKeyParts = {
  judge: 'http@http://127.0.0.1:8000/v1',
  model: 'm',
  promptHash: 'abc123abc123',
  params: { temperature: 0, maxTokens: 128 },
  format: 'list',
  candidate: 'cand',
  reference: 'ref',
};

describe('answer cache', () => {
  it('keeps answers across closing and reopening the file', () => {
    const path = join(dir, 'sub', 'answers.sqlite');
    const a = AnswerCache.open(path);
    a.put(cacheKey(parts), { text: 'ANSWER', usage: { promptTokens: 10, completionTokens: 3 } }, parts);
    a.close();
    const b = AnswerCache.open(path);
    expect(b.get(cacheKey(parts))).toEqual({
      text: 'ANSWER',
      usage: { promptTokens: 10, completionTokens: 3 },
    });
    expect(b.get(cacheKey({ ...parts, candidate: 'other' }))).toBeUndefined();
    expect(b.stats).toEqual({ hits: 1, misses: 1, writes: 0 });
    b.close();
  });

  it('keys on every part: judge, model, prompt, format, parameters and both texts', () => {
    const base = cacheKey(parts);
    const variants: Partial<CacheKeyParts>[] = [
      { judge: 'openai@https://api.openai.com/v1' },
      { model: 'm2' },
      { promptHash: 'ffffffffffff' },
      { format: 'json' },
      { params: { temperature: 0.2, maxTokens: 128 } },
      { params: { temperature: 0, maxTokens: 256 } },
      { params: { temperature: 0, maxTokens: 128, seed: 1 } },
      { candidate: 'cand ' },
      { reference: 'Ref' },
      // Moving text between the two fields must not collide.
      { candidate: 'candref', reference: '' },
    ];
    const keys = new Set([base, ...variants.map((v) => cacheKey({ ...parts, ...v }))]);
    expect(keys.size).toBe(variants.length + 1);
  });

  it('says which file it cannot use', () => {
    const notADir = join(dir, 'file');
    writeFileSync(notADir, 'x');
    expect(() => AnswerCache.open(join(notADir, 'answers.sqlite'))).toThrow(
      /file.*cannot open the answer cache/,
    );
  });
});
