import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeTable, preprocessImage, roundHalfEven } from '../../src/image/preprocess.js';
import { decodeRasterFile } from '../../src/image/raster-file.js';
import { readNpy } from '../../src/util/npy.js';
import { FIXTURES } from '../helpers.js';

const PRE = join(FIXTURES, 'preprocess');
const TINY = join(FIXTURES, 'oracle', 'tiny-a', 'golden', 'pixels');
const manifest = JSON.parse(readFileSync(join(PRE, 'manifest.json'), 'utf8')) as {
  images: Record<string, { crop: { crop_top: number; crop_left: number; resized_wh: [number, number] } }>;
};
const names = Object.keys(manifest.images);

async function load(name: string) {
  const file = join(PRE, 'inputs', name);
  const fmt = name.endsWith('.png') ? 'png' : 'jpeg';
  return (await decodeRasterFile(file, readFileSync(file), fmt)).raster;
}

const stem = (name: string) => name.replace(/\.(png|jpg)$/, '');

describe('normalisation table', () => {
  it('equals normalize_lut_f32.npy exactly', () => {
    const golden = readNpy(join(PRE, 'normalize_lut_f32.npy'));
    expect(golden.shape).toEqual([3, 256]);
    expect(Array.from(normalizeTable())).toEqual(Array.from(golden.data as Float32Array));
  });
});

describe('open_clip eval transform at 518 (fixtures/preprocess)', () => {
  it.each(names)('%s: 8-bit crop equals the golden exactly', async (name) => {
    const out = preprocessImage(await load(name), { imageSize: 518 });
    const info = manifest.images[name]!.crop;
    expect([out.resized.width, out.resized.height]).toEqual(info.resized_wh);
    expect([out.resized.top, out.resized.left]).toEqual([info.crop_top, info.crop_left]);
    const golden = readNpy(join(PRE, '518', `${stem(name)}.crop_u8_gray.npy`)).data as Uint8Array;
    let diff = 0;
    for (let i = 0; i < golden.length; i++) {
      for (let c = 0; c < 3; c++) if (out.crop[i * 3 + c] !== golden[i]) diff++;
    }
    expect(diff).toBe(0);
    const lut = readNpy(join(PRE, 'normalize_lut_f32.npy')).data as Float32Array;
    const plane = 518 * 518;
    let maxErr = 0;
    for (let c = 0; c < 3; c++)
      for (let i = 0; i < plane; i++)
        maxErr = Math.max(maxErr, Math.abs(out.pixels[c * plane + i]! - lut[c * 256 + golden[i]!]!));
    expect(maxErr).toBeLessThanOrEqual(1e-6);
  });
});

describe('open_clip eval transform at the tiny size 56 (oracle tiny-a goldens)', () => {
  it.each(names)('%s: crop and pixel_values match', async (name) => {
    const out = preprocessImage(await load(name), { imageSize: 56 });
    const crop = readNpy(join(TINY, `${stem(name)}.crop_u8.npy`));
    expect(crop.shape).toEqual([56, 56, 3]);
    expect(Buffer.from(out.crop).equals(Buffer.from(crop.data as Uint8Array))).toBe(true);
    const pv = readNpy(join(TINY, `${stem(name)}.pixel_values.npy`));
    expect(pv.shape).toEqual([3, 56, 56]);
    expect(out.shape).toEqual([1, 3, 56, 56]);
    const want = pv.data as Float32Array;
    let maxErr = 0;
    for (let i = 0; i < want.length; i++) maxErr = Math.max(maxErr, Math.abs(out.pixels[i]! - want[i]!));
    expect(maxErr).toBeLessThanOrEqual(1e-6);
  });

  it('the crafted tie image puts the crop offset on .5 at 56 and 70, rounded half-to-even', async () => {
    const raster = await load('oracle_odd_CXR3_from_IU.png');
    expect(preprocessImage(raster, { imageSize: 56 }).resized).toEqual({
      width: 56,
      height: 69,
      top: 6,
      left: 0,
    });
    // 560x696 at 70: 70 x floor(70 * 696 / 560) = 70 x 87, top (87 - 70) / 2 = 8.5 -> 8
    const at70 = preprocessImage(raster, { imageSize: 70 });
    expect(at70.resized).toEqual({ width: 70, height: 87, top: 8, left: 0 });
    expect(at70.shape).toEqual([1, 3, 70, 70]);
  });
});

describe('crop offsets round half to even', () => {
  it('tie_611x702_from_covid.png: 611x702 -> 518x595, top offset 38.5 -> 38 (Math.round would give 39)', async () => {
    const file = join(FIXTURES, '..', 'data', 'images', 'tie_611x702_from_covid.png');
    const raster = (await decodeRasterFile(file, readFileSync(file), 'png')).raster;
    expect([raster.width, raster.height]).toEqual([611, 702]);
    expect(preprocessImage(raster).resized).toEqual({ width: 518, height: 595, top: 38, left: 0 });
  });

  it.each([
    [0.5, 0],
    [1.5, 2],
    [2.5, 2],
    [38.5, 38],
    [62.5, 62],
    [4.4999, 4],
    [4.5001, 5],
  ])('roundHalfEven(%f) = %i', (x, want) => {
    expect(roundHalfEven(x)).toBe(want);
  });
});
