import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodePng, findChunk, png16 } from '../../bench/support/make-png.js';
import { inspectImage, loadImage, preprocessImage } from '../../src/image/index.js';

const dir = mkdtempSync(join(tmpdir(), 'cxr-raster-'));

async function savePng16(name: string, words: Uint16Array, width: number, height: number): Promise<string> {
  const file = join(dir, name);
  writeFileSync(file, png16(words, width, height));
  return file;
}

describe('PNG and JPEG decoding (sharp)', () => {
  it('16-bit grey PNG: min..max stretched to 8 bits by default, or divided by 257', async () => {
    const words = Uint16Array.from([1000, 2000, 3000, 1000]); // 12-bit data in a 16-bit PNG
    const file = await savePng16('g16.png', words, 2, 2);
    expect((await inspectImage(file)).metadata.bitDepth).toBe(16);
    const img = await loadImage(file);
    expect(img.metadata.bitDepth).toBe(16);
    expect(img.raster.channels).toBe(1);
    expect(Array.from(img.raster.data)).toEqual([0, 128, 255, 0]);
    const scaled = await loadImage(file, { sixteenBit: 'scale' });
    expect(Array.from(scaled.raster.data)).toEqual([4, 8, 12, 4]);
  });

  it('colour PNG keeps three channels; grey stored as RGB collapses to one; alpha is dropped', async () => {
    const rgb = join(dir, 'rgb.png');
    await sharp(Uint8Array.from([255, 0, 0, 10, 20, 30]), { raw: { width: 2, height: 1, channels: 3 } })
      .png()
      .toFile(rgb);
    const colour = await loadImage(rgb);
    expect(colour.raster.channels).toBe(3);
    expect(Array.from(colour.raster.data)).toEqual([255, 0, 0, 10, 20, 30]);
    expect(colour.verdict.reasons.join(' ')).toContain('stored as RGB');
    const greyRgb = join(dir, 'greyrgb.png');
    await sharp(Uint8Array.from([7, 7, 7, 9, 9, 9]), { raw: { width: 2, height: 1, channels: 3 } })
      .png()
      .toFile(greyRgb);
    const grey = await loadImage(greyRgb);
    expect(grey.raster.channels).toBe(1);
    expect(Array.from(grey.raster.data)).toEqual([7, 9]);
    const la = join(dir, 'la.png');
    await sharp(Uint8Array.from([50, 0, 60, 255]), { raw: { width: 2, height: 1, channels: 2 } })
      .png()
      .toFile(la);
    expect(Array.from((await loadImage(la)).raster.data)).toEqual([50, 60]);
  });

  it('a colour image is resampled per channel (each channel equals the grey path of that channel)', async () => {
    const w = 90;
    const h = 70;
    const rgb = new Uint8Array(w * h * 3);
    for (let i = 0; i < w * h; i++) {
      rgb[i * 3] = (i * 7) % 256;
      rgb[i * 3 + 1] = (i * 13) % 256;
      rgb[i * 3 + 2] = (i * 29) % 256;
    }
    const out = preprocessImage({ width: w, height: h, channels: 3, data: rgb }, { imageSize: 56 });
    for (let c = 0; c < 3; c++) {
      const plane = Uint8Array.from({ length: w * h }, (_, i) => rgb[i * 3 + c]!);
      const grey = preprocessImage({ width: w, height: h, channels: 1, data: plane }, { imageSize: 56 });
      for (let i = 0; i < 56 * 56; i++)
        if (out.crop[i * 3 + c] !== grey.crop[i * 3]) throw new Error(`channel ${c} px ${i}`);
    }
  });

  it('sniffs the format from the bytes, not the name', async () => {
    const misnamed = join(dir, 'really-a-png.dcm');
    await sharp(Uint8Array.from([1, 2, 3, 4]), { raw: { width: 2, height: 2, channels: 1 } })
      .png()
      .toFile(misnamed);
    const img = await loadImage(misnamed);
    expect(img.metadata.format).toBe('png');
  });
});

describe('no colour management (as PIL)', () => {
  it('an embedded ICC profile does not change the stored values', async () => {
    const px = Uint8Array.from([200, 30, 60, 10, 180, 90]);
    // Borrow a real profile from a PNG sharp writes, then store known samples alongside it.
    const withP3 = await sharp(px, { raw: { width: 2, height: 1, channels: 3 } })
      .withIccProfile('p3')
      .png()
      .toBuffer();
    const iccp = findChunk(withP3, 'iCCP')!;
    const file = join(dir, 'p3.png');
    writeFileSync(
      file,
      encodePng({ width: 2, height: 1, channels: 3, bitDepth: 8, data: px, chunks: [['iCCP', iccp]] }),
    );
    expect((await sharp(file).metadata()).hasProfile).toBe(true);
    expect(Array.from((await loadImage(file)).raster.data)).toEqual(Array.from(px));
  });
});
