import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy, parseNpy, readNpy } from '../../src/util/npy.js';
import { FIXTURES } from '../helpers.js';

describe('npy', () => {
  it('reads the golden int64 prompt ids with one image sentinel', () => {
    const a = readNpy(join(FIXTURES, 'oracle/tiny-a/golden/prompts/a_no_indication.input_ids.npy'));
    expect(a.dtype).toBe('int64');
    expect(a.shape).toEqual([58]);
    expect(Array.from(a.data as BigInt64Array).filter((v) => v === -200n)).toHaveLength(1);
    expect((a.data as BigInt64Array)[0]).toBe(1n);
  });

  it('round-trips float32 and uint8 arrays', () => {
    const f = { dtype: 'float32' as const, shape: [2, 3], data: new Float32Array([1, -2, 3.5, 0, 1e-7, 6]) };
    const back = parseNpy(encodeNpy(f));
    expect(back.shape).toEqual([2, 3]);
    expect(Array.from(back.data as Float32Array)).toEqual(Array.from(f.data));
    const u = { dtype: 'uint8' as const, shape: [4], data: new Uint8Array([0, 1, 254, 255]) };
    expect(Array.from(parseNpy(encodeNpy(u)).data as Uint8Array)).toEqual([0, 1, 254, 255]);
    expect(encodeNpy(u).length % 64).toBe(4); // header padded to 64 bytes
  });

  it('rejects a file that is not npy and a truncated one, naming the file', () => {
    expect(() => parseNpy(new TextEncoder().encode('hello world'), 'x.npy')).toThrow(/x\.npy.*bad magic/);
    const f = encodeNpy({ dtype: 'float32', shape: [10], data: new Float32Array(10) });
    expect(() => parseNpy(f.subarray(0, f.length - 4), 'y.npy')).toThrow(/y\.npy.*truncated/);
  });
});
