import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { makeDicom, SYNTAX, testPattern } from '../../bench/support/make-dicom.js';
import { readNpy } from '../../src/util/npy.js';
import { cli, DATA, FIXTURES } from '../helpers.js';

const TINY = join(FIXTURES, 'oracle', 'tiny-a', 'golden', 'pixels');
const INPUT = join(FIXTURES, 'preprocess', 'inputs', 'oracle_odd_CXR3_from_IU.png');

describe('cxr preprocess', () => {
  it('writes the float32 [1,3,S,S] tensor equal to the golden, and the crop as PNG', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cxr-pre-'));
    const out = join(dir, 'x.npy');
    const png = join(dir, 'x.png');
    const r = await cli(['preprocess', INPUT, '--image-size', '56', '--out', out, '--png', png]);
    expect(r.stderr).toContain('crop at (6, 0)');
    expect(r.code).toBe(0);
    const got = readNpy(out);
    expect(got.dtype).toBe('float32');
    expect(got.shape).toEqual([1, 3, 56, 56]);
    const want = readNpy(join(TINY, 'oracle_odd_CXR3_from_IU.pixel_values.npy')).data as Float32Array;
    const g = got.data as Float32Array;
    let maxErr = 0;
    for (let i = 0; i < want.length; i++) maxErr = Math.max(maxErr, Math.abs(g[i]! - want[i]!));
    expect(maxErr).toBeLessThanOrEqual(1e-6);
    const { data, info } = await sharp(readFileSync(png)).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([56, 56, 3]);
    const crop = readNpy(join(TINY, 'oracle_odd_CXR3_from_IU.crop_u8.npy')).data as Uint8Array;
    expect(Buffer.compare(data, Buffer.from(crop))).toBe(0);
  });

  it('refuses a lateral DICOM with exit 2 and accepts it with --allow-lateral', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cxr-pre-'));
    const f = join(dir, 'lat.dcm');
    writeFileSync(
      f,
      await makeDicom(
        { width: 80, height: 64, values: testPattern(80, 64), viewPosition: 'LATERAL' },
        SYNTAX.explicitLE,
      ),
    );
    const out = join(dir, 'x.npy');
    const refused = await cli(['preprocess', f, '--out', out, '--image-size', '56']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('lat.dcm');
    expect(refused.stderr).toContain('--allow-lateral');
    const ok = await cli(['preprocess', f, '--out', out, '--image-size', '56', '--allow-lateral']);
    expect(ok.code).toBe(0);
    expect(readNpy(out).shape).toEqual([1, 3, 56, 56]);
  });

  it('exits 2 naming the file for a truncated PNG, and for a bad option', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cxr-pre-'));
    const f = join(dir, 'cut.png');
    const full = readFileSync(join(DATA, 'images', '00000001_000.png'));
    writeFileSync(f, full.subarray(0, full.length >> 1));
    const r = await cli(['preprocess', f, '--out', join(dir, 'x.npy')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cut.png');
    const bad = await cli(['preprocess', INPUT, '--out', join(dir, 'x.npy'), '--voi', 'magic']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--voi');
    for (const size of ['0', '100000']) {
      const r = await cli(['preprocess', INPUT, '--out', join(dir, 'x.npy'), '--image-size', size]);
      expect(r.code, size).toBe(2);
      // Named as the user typed it (it said "imageSize").
      expect(r.stderr, size).toContain(
        `--image-size: image size must be an integer from 1 to 4096; found ${size}`,
      );
    }
  });

  // The raw ENOENT used to escape as an internal error (exit 1).
  it('exits 2 naming the output when its folder does not exist', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cxr-pre-')), 'missing', 'x.npy');
    const r = await cli(['preprocess', INPUT, '--image-size', '56', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(out);
  });
});
