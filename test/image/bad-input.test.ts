import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type ImageSpec, makeDicom, SYNTAX, testPattern } from '../../bench/support/make-dicom.js';
import { CxrError } from '../../src/errors.js';
import { type LoadOptions, loadImage } from '../../src/image/index.js';
import { cli, DATA } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'cxr-bad-'));
const IMG = join(DATA, 'images');
const PNG = readFileSync(join(IMG, '00000001_000.png'));
const JPEG = readFileSync(join(IMG, 'covid-19-pneumonia-58-prior.jpg'));
const SIIM = readFileSync(join(IMG, '1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm'));

function save(name: string, bytes: Uint8Array): string {
  const f = join(dir, name);
  writeFileSync(f, bytes);
  return f;
}

/** Expect loadImage to fail fast with an input error of `code` that names the file. */
async function refuses(file: string, code: string, options: LoadOptions = {}): Promise<CxrError> {
  const t0 = performance.now();
  const err = await loadImage(file, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(performance.now() - t0).toBeLessThan(5000);
  expect(err).toBeInstanceOf(CxrError);
  const e = err as CxrError;
  expect(e.kind).toBe('input');
  expect(e.code).toBe(code);
  expect(e.message).toContain(file);
  return e;
}

/** A PNG whose IHDR claims `width` x `height` (CRC fixed so the header itself is well-formed). */
function pngClaiming(width: number, height: number): Uint8Array {
  const b = Uint8Array.from(PNG);
  const view = new DataView(b.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  view.setUint32(29, crc32(b.subarray(12, 29))); // CRC over "IHDR" + 13 data bytes
  return b;
}

const dicom = (spec: Partial<ImageSpec>, syntax: string = SYNTAX.explicitLE) =>
  makeDicom({ width: 16, height: 16, values: testPattern(16, 16), bitsStored: 12, ...spec }, syntax);

describe('bad input: each gets an input error naming the file and the problem', () => {
  it('truncated PNG, JPEG and DICOM', async () => {
    await refuses(save('cut.png', PNG.subarray(0, PNG.length >> 1)), 'image.corrupt');
    await refuses(save('cut.jpg', JPEG.subarray(0, JPEG.length >> 1)), 'image.corrupt');
    await refuses(save('cut-header.png', PNG.subarray(0, 20)), 'image.corrupt');
    const e = await refuses(save('cut.dcm', SIIM.subarray(0, SIIM.length - 5000)), 'dicom.truncated');
    expect(e.message).toContain('ends in the middle of the dataset');
    await refuses(save('cut-meta.dcm', SIIM.subarray(0, 200)), 'dicom.corrupt');
    const native = await dicom({});
    await refuses(save('cut-native.dcm', native.subarray(0, native.length - 100)), 'dicom.truncated');
  });

  it('a PNG or DICOM whose header lies about the image size', async () => {
    await refuses(save('lying.png', pngClaiming(700, 640)), 'image.corrupt');
    const e = await refuses(save('lying.dcm', await dicom({ width: 32, height: 32 })), 'dicom.truncated');
    expect(e.message).toContain('PixelData');
  });

  it('a 100k x 100k decompression bomb is refused from the header, before allocation', async () => {
    const before = process.memoryUsage().rss;
    const e = await refuses(save('bomb.png', pngClaiming(100_000, 100_000)), 'image.too_large');
    expect(e.message).toContain('100000x100000');
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 2 ** 20);
    // DICOM Rows/Columns are 16-bit: the largest claim is 65535 x 65535.
    await refuses(save('bomb.dcm', await dicom({ width: 65535, height: 65535 })), 'image.too_large');
  });

  it('zero dimensions', async () => {
    const e = await refuses(save('zero.dcm', await dicom({ width: 0, height: 16 })), 'image.bad_dimensions');
    expect(e.message).toContain('0x16');
    await refuses(save('zero.png', pngClaiming(0, 512)), 'image.corrupt');
  });

  it('a DICOM without pixel data', async () => {
    const f = save('nopixels.dcm', await dicom({ noPixelData: true }));
    const e = await refuses(f, 'image.not_chest_radiograph');
    expect(e.message).toContain('no pixel data');
    await refuses(f, 'dicom.no_pixel_data', { allowNonChest: true });
  });

  it('an unsupported transfer syntax', async () => {
    const e = await refuses(
      save('mpeg.dcm', await dicom({}, '1.2.840.10008.1.2.4.100')),
      'dicom.unsupported',
    );
    expect(e.message).toContain('1.2.840.10008.1.2.4.100 (MPEG2 Main Profile (video))');
    await refuses(save('made-up.dcm', await dicom({}, '1.2.3.4.5')), 'dicom.unsupported');
  });

  it('a text file renamed .dcm, and an empty file', async () => {
    const e = await refuses(
      save('notes.dcm', new TextEncoder().encode('Patient: none\nthis is text\n')),
      'image.unknown_format',
    );
    expect(e.message).toContain('text starting');
    await refuses(save('empty.png', new Uint8Array(0)), 'image.empty');
    await refuses(join(dir, 'missing.png'), 'image.unreadable');
  });

  it('the CLI exits 2 with the file and problem on stderr', async () => {
    const f = save('bomb2.png', pngClaiming(100_000, 100_000));
    const r = await cli(['preprocess', f, '--out', join(dir, 'x.npy')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(f);
    expect(r.stderr).toContain('implausibly large');
  });
});

describe('validation refuses what is clearly not a chest radiograph (overridable)', () => {
  it.each([
    [{ modality: 'CT' }, 'Modality CT: a CT slice'],
    [{ modality: 'DX', bodyPart: 'KNEE' }, 'BodyPartExamined KNEE'],
    [{ frames: 10 }, '10 frames: a multi-frame'],
    [{ modality: 'SR', sopClass: '1.2.840.10008.5.1.4.1.1.88.22', noPixelData: true }, 'structured report'],
  ] as Array<[Partial<ImageSpec>, string]>)('%o', async (spec, reason) => {
    const f = save(`refuse-${Object.values(spec).join('-')}.dcm`, await dicom(spec));
    const e = await refuses(f, 'image.not_chest_radiograph');
    expect(e.message).toContain(reason);
  });

  it('allowNonChest lets a CT slice through', async () => {
    const img = await loadImage(save('ct-ok.dcm', await dicom({ modality: 'CT' })), { allowNonChest: true });
    expect(img.verdict.status).toBe('refused');
    expect(img.raster.width).toBe(16);
  });

  it('flags a lateral view, allowed with allowLateral; frontal views pass', async () => {
    const f = save('lat.dcm', await dicom({ viewPosition: 'LL' }));
    await refuses(f, 'image.lateral_view');
    const ok = await loadImage(f, { allowLateral: true });
    expect(ok.verdict.status).toBe('lateral');
    for (const view of ['AP', 'PA', 'LLD']) {
      const v = await loadImage(save(`v-${view}.dcm`, await dicom({ viewPosition: view })));
      expect(v.verdict.status).toBe('frontal');
    }
  });
});

describe('compressed frames are checked against the header before decoding', () => {
  /** Patch Rows (0028,0010) in an explicit-VR little-endian file. */
  function setRows(file: Uint8Array, rows: number): Uint8Array {
    const out = Uint8Array.from(file);
    const tag = Buffer.from('28001000555302 00'.replace(/ /g, ''), 'hex');
    const at = Buffer.from(out).indexOf(tag);
    new DataView(out.buffer).setUint16(at + 8, rows, true);
    return out;
  }

  it.each(['jpegLosslessSV1', 'jpegLs', 'j2kLossless', 'htj2kLossless'] as const)(
    '%s frame whose size disagrees with Rows is refused, naming both sizes',
    async (name) => {
      const good = await dicom({}, SYNTAX[name]);
      const e = await refuses(save(`mismatch-${name}.dcm`, setRows(good, 4000)), 'dicom.corrupt');
      expect(e.message).toContain('does not match the image size');
      expect(e.message).toContain('expected 16x4000,');
      expect(e.message).toContain('found 16x16');
    },
  );
});
