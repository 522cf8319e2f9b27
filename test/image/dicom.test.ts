import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  encodeFrame,
  type ImageSpec,
  type Item,
  jpeg8to12,
  makeDicom,
  SYNTAX,
  testPattern,
} from '../../bench/support/make-dicom.js';
import { type LoadOptions, loadImage, preprocessImage } from '../../src/image/index.js';
import { DATA } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'cxr-dicom-'));
let count = 0;
async function load(spec: ImageSpec, syntax: string, options: LoadOptions = {}) {
  const file = join(dir, `f${count++}.dcm`);
  writeFileSync(file, await makeDicom(spec, syntax));
  return loadImage(file, options);
}

const W = 40;
const H = 30;
const PATTERN = testPattern(W, H, 12);
const BASE: ImageSpec = { width: W, height: H, values: PATTERN, bitsStored: 12 };
/** The full 12-bit range, linearly: out = round(v * 255 / 4095). */
const expected = Uint8Array.from(PATTERN, (v) => Math.round((v * 255) / 4095));

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

describe('every supported transfer syntax decodes (files made with dcmjs-codecs encoders)', () => {
  const lossless = [
    'implicitLE',
    'explicitLE',
    'explicitBE',
    'deflated',
    'rle',
    'jpegLossless',
    'jpegLosslessSV1',
    'jpegLs',
    'j2kLossless',
    'htj2kLossless',
    'htj2kRpcl',
  ] as const;
  it.each(lossless)('%s (12-bit) reproduces the stored values exactly', async (name) => {
    const img = await load(BASE, SYNTAX[name], { voi: 'bits' });
    expect(img.metadata.transferSyntax).toBe(SYNTAX[name]);
    expect(img.metadata.bitDepth).toBe(12);
    expect(maxDiff(img.raster.data, expected)).toBe(0);
  });

  // Lossy codecs: within a few grey levels of the original (the bound is the codec's, measured here).
  it.each([
    ['jpegLsNear', 1],
    ['j2k', 1],
    ['htj2k', 1],
  ] as const)('%s (12-bit, lossy) stays within %i grey levels', async (name, tol) => {
    const img = await load(BASE, SYNTAX[name], { voi: 'bits' });
    expect(maxDiff(img.raster.data, expected)).toBeLessThanOrEqual(tol);
  });

  it.each(['jpegBaseline', 'jpegExtended'] as const)(
    '%s (8-bit lossy) stays within 2 grey levels',
    async (name) => {
      const values = Uint8Array.from(expected);
      const img = await load({ ...BASE, values, bitsAllocated: 8, bitsStored: 8 }, SYNTAX[name], {
        voi: 'bits',
      });
      expect(maxDiff(img.raster.data, values)).toBeLessThanOrEqual(2);
    },
  );
});

describe('grey mapping (Modality LUT, VOI, MONOCHROME1)', () => {
  it('applies the window with the DICOM LINEAR formula', async () => {
    const values = Uint16Array.from([0, 1000, 1499, 1500, 2000, 2500, 2501, 4095]);
    const extra: Item = [
      ['00281050', 'DS', '2000'],
      ['00281051', 'DS', '1001'],
    ];
    const img = await load({ width: 8, height: 1, values, bitsStored: 12, extra }, SYNTAX.explicitLE);
    // y = ((x - (c - 0.5)) / (w - 1) + 0.5) * 255, clipped: x=1500 -> 0.0005*255 -> 0; 2000 -> 127.6 -> 128
    expect(Array.from(img.raster.data)).toEqual([0, 0, 0, 0, 128, 255, 255, 255]);
    expect(img.metadata.rendering).toBe('window 2000/1001 LINEAR');
  });

  it('applies RescaleSlope/Intercept before the window, and sign-extends signed samples', async () => {
    const values = Int16Array.from([-2048, -1, 0, 2047]);
    const extra: Item = [
      ['00281050', 'DS', '0'],
      ['00281051', 'DS', '2'],
      ['00281052', 'DS', '-1'],
      ['00281053', 'DS', '2'],
    ];
    // modality values 2x - 1: -4097, -3, -1, 4093; LINEAR window c 0, w 2: x <= -1 -> 0, x > 0 -> 255
    const img = await load(
      { width: 4, height: 1, values, bitsStored: 12, signed: true, extra },
      SYNTAX.explicitLE,
    );
    expect(Array.from(img.raster.data)).toEqual([0, 0, 0, 255]);
  });

  it('uses the VOI LUT sequence when there is no window', async () => {
    const lut = Array.from({ length: 16 }, (_, i) => i * 4369); // 16 entries, 0..65535
    const extra: Item = [
      [
        '00283010',
        'SQ',
        [
          [
            ['00283002', 'US', [16, 100, 16]],
            ['00283006', 'OW', new Uint8Array(Uint16Array.from(lut).buffer)],
          ],
        ],
      ],
    ];
    const values = Uint16Array.from([0, 100, 101, 108, 115, 4000]);
    const img = await load({ width: 6, height: 1, values, bitsStored: 12, extra }, SYNTAX.explicitLE);
    expect(Array.from(img.raster.data)).toEqual([0, 0, 17, 136, 255, 255]);
    expect(img.metadata.rendering).toMatch(/^VOI LUT/);
  });

  it('stretches min..max when the header has no VOI, and inverts MONOCHROME1', async () => {
    const values = Uint16Array.from([100, 200, 300]);
    const mono2 = await load({ width: 3, height: 1, values, bitsStored: 12 }, SYNTAX.explicitLE);
    expect(Array.from(mono2.raster.data)).toEqual([0, 128, 255]);
    const mono1 = await load(
      { width: 3, height: 1, values, bitsStored: 12, photometric: 'MONOCHROME1' },
      SYNTAX.explicitLE,
    );
    expect(Array.from(mono1.raster.data)).toEqual([255, 127, 0]);
    const kept = await load(
      { width: 3, height: 1, values, bitsStored: 12, photometric: 'MONOCHROME1' },
      SYNTAX.explicitLE,
      { invertMonochrome1: false },
    );
    expect(Array.from(kept.raster.data)).toEqual([0, 128, 255]);
  });

  it('histogram equalisation is an option (OpenCV equalizeHist semantics)', async () => {
    const values = Uint16Array.from([0, 0, 4095, 4095, 4095, 4095, 2000, 2000]);
    const img = await load({ width: 8, height: 1, values, bitsStored: 12 }, SYNTAX.explicitLE, {
      equalize: true,
    });
    // 8-bit levels 0 (x2), 125 (x2), 255 (x4): lut[125] = round(2 * 255 / 6) = 85, lut[255] = 255
    expect(Array.from(img.raster.data)).toEqual([0, 0, 255, 255, 255, 255, 85, 85]);
  });

  it('reads 8-bit RGB DICOMs as colour', async () => {
    const values = Uint8Array.from([255, 0, 0, 0, 255, 0]);
    const img = await load(
      {
        width: 2,
        height: 1,
        values,
        bitsAllocated: 8,
        bitsStored: 8,
        samplesPerPixel: 3,
        photometric: 'RGB',
      },
      SYNTAX.explicitLE,
    );
    expect(img.raster.channels).toBe(3);
    expect(Array.from(img.raster.data)).toEqual([255, 0, 0, 0, 255, 0]);
  });
});

describe('SIIM MONOCHROME2 / MONOCHROME1 pair (identical pixel data)', () => {
  it('the MONOCHROME1 file comes out as the inverse: 518 crops sum to 255 within one grey level', async () => {
    const img = join(DATA, 'images');
    const m2 = await loadImage(join(img, '1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm'));
    const m1 = await loadImage(join(img, 'Fake_MONOHR1.dcm'));
    expect(m2.metadata.photometricInterpretation).toBe('MONOCHROME2');
    expect(m1.metadata.photometricInterpretation).toBe('MONOCHROME1');
    for (let i = 0; i < m2.raster.data.length; i++) {
      if (m2.raster.data[i]! + m1.raster.data[i]! !== 255)
        throw new Error(`raster pixel ${i} is not inverted`);
    }
    const a = preprocessImage(m2.raster).crop;
    const b = preprocessImage(m1.raster).crop;
    let worst = 0;
    let off = 0;
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i]! + b[i]! - 255);
      worst = Math.max(worst, d);
      if (d) off++;
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(off / a.length).toBeLessThan(0.5);
  });
});

describe('JPEG extended, 12-bit lossy (process 4)', () => {
  it('decodes to 16x the 8-bit image, within IDCT rounding', async () => {
    const eight = Uint8Array.from(expected);
    const spec8: ImageSpec = { ...BASE, values: eight, bitsAllocated: 8, bitsStored: 8 };
    const frame8 = await encodeFrame(spec8, SYNTAX.jpegBaseline);
    const ref = await load({ ...spec8, frame: frame8 }, SYNTAX.jpegBaseline, { voi: 'bits' });
    const frame12 = jpeg8to12(frame8);
    const img = await load({ ...BASE, frame: frame12 }, SYNTAX.jpegExtended, { voi: 'bits' });
    expect(img.metadata.bitDepth).toBe(12);
    // voi 'bits' maps 12-bit v to round(v * 255 / 4095); 16 * v8 maps back to within a level of v8.
    expect(maxDiff(img.raster.data, ref.raster.data)).toBeLessThanOrEqual(1);
  });
});
