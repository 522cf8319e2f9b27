/** The kv-keys bench's own code on a small case: each key format's errors are reported and ordered as expected. */
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../bench/kv-keys.js';

describe('kv-keys bench', () => {
  it('reports score and output errors per format; fp16 keys are the most accurate, 8-bit ones near 1%', async () => {
    const chunks: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c) => {
      chunks.push(String(c));
      return true;
    });
    try {
      await main(['--positions', '96', '--queries', '8', '--json']);
    } finally {
      spy.mockRestore();
    }
    const r = JSON.parse(chunks.join('')) as {
      results: { format: string; keys: string; scores: number; output: number }[];
    };
    expect(r.results).toHaveLength(6);
    const get = (format: string, keys: string) =>
      r.results.find((x) => x.format === format && x.keys === keys)!;
    for (const keys of ['gaussian', 'outlier channels']) {
      const f16 = get('llama.cpp f16 keys', keys);
      for (const format of ['cxr int8 keys', 'llama.cpp q8_0 keys']) {
        const x = get(format, keys);
        expect(x.scores).toBeGreaterThan(f16.scores);
        expect(x.scores).toBeLessThan(0.02);
        expect(x.output).toBeLessThan(0.05);
      }
    }
  });
});
