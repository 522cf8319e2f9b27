/**
 * `npm run bench -- image [--reps N] [--json]`: decode + preprocess time for a 2500x3000 chest radiograph in
 * every compressed DICOM syntax (files made here with dcmjs-codecs' encoders), plus large PNG and JPEG files.
 * The image is a real CXR (the COVID-collection JPEG in ../shared) upscaled to 2500x3000, widened to 12 bits with
 * seeded noise so the codecs see realistic entropy. JPEG baseline is 8-bit by definition; the 12-bit JPEG
 * extended file is the 8-bit stream re-labelled 12-bit (jpeg8to12), as dcmjs-codecs has no 12-bit lossy encoder.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadImage, preprocessImage } from '../src/image/index.js';
import { encodeFrame, type ImageSpec, jpeg8to12, makeDicom, SYNTAX } from './support/make-dicom.js';
import { png16 as encodePng16 } from './support/make-png.js';
import { DATA } from './support/paths.js';

const WIDTH = 2500;
const HEIGHT = 3000;
const COMPRESSED: Array<keyof typeof SYNTAX> = [
  'deflated',
  'rle',
  'jpegBaseline',
  'jpegExtended',
  'jpegLossless',
  'jpegLosslessSV1',
  'jpegLs',
  'jpegLsNear',
  'j2kLossless',
  'j2k',
  'htj2kLossless',
  'htj2kRpcl',
  'htj2k',
];

interface Row {
  input: string;
  bytes: number;
  decodeMs: number;
  preprocessMs: number;
  totalMs: number;
}

async function sourceImage(): Promise<{ grey8: Uint8Array; grey12: Uint16Array }> {
  const { data } = await sharp(join(DATA, 'images', 'covid-19-pneumonia-58-prior.jpg'))
    .greyscale()
    .resize(WIDTH, HEIGHT, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const grey8 = new Uint8Array(data.buffer, data.byteOffset, WIDTH * HEIGHT);
  let seed = 12345;
  const noise = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 28; // 0..15
  };
  const grey12 = Uint16Array.from(grey8, (v) => v * 16 + noise());
  return { grey8, grey12 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function time(input: string, file: string, reps: number): Promise<Row> {
  const decode: number[] = [];
  const pre: number[] = [];
  for (let r = 0; r < reps + 1; r++) {
    const t0 = performance.now();
    const img = await loadImage(file);
    const t1 = performance.now();
    preprocessImage(img.raster);
    const t2 = performance.now();
    if (r === 0) continue; // warm-up: codec initialisation, JIT
    decode.push(t1 - t0);
    pre.push(t2 - t1);
  }
  const decodeMs = median(decode);
  const preprocessMs = median(pre);
  return { input, bytes: statSync(file).size, decodeMs, preprocessMs, totalMs: decodeMs + preprocessMs };
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { reps: { type: 'string' }, json: { type: 'boolean' } },
  });
  const reps = Number(values.reps ?? 3);
  const dir = mkdtempSync(join(tmpdir(), 'cxr-bench-image-'));
  try {
    const { grey8, grey12 } = await sourceImage();
    const files: Array<[string, string]> = [];
    for (const name of COMPRESSED) {
      const eight = name === 'jpegBaseline';
      const spec8 = { width: WIDTH, height: HEIGHT, values: grey8, bitsAllocated: 8 as const, bitsStored: 8 };
      const spec: ImageSpec = eight
        ? spec8
        : { width: WIDTH, height: HEIGHT, values: grey12, bitsStored: 12 };
      if (name === 'jpegExtended') spec.frame = jpeg8to12(await encodeFrame(spec8, SYNTAX.jpegBaseline));
      const file = join(dir, `${name}.dcm`);
      writeFileSync(file, await makeDicom(spec, SYNTAX[name]));
      files.push([`DICOM ${name} (${SYNTAX[name]}, ${eight ? 8 : 12}-bit)`, file]);
    }
    const raw = { raw: { width: WIDTH, height: HEIGHT, channels: 1 as const } };
    const png8 = join(dir, 'grey8.png');
    await sharp(grey8, raw).png().toFile(png8);
    const png16 = join(dir, 'grey16.png');
    writeFileSync(png16, encodePng16(grey12, WIDTH, HEIGHT)); // 12-bit values in a 16-bit PNG
    const jpg = join(dir, 'grey.jpg');
    await sharp(grey8, raw).jpeg({ quality: 95 }).toFile(jpg);
    files.push(['PNG 8-bit grey', png8], ['PNG 16-bit grey', png16], ['JPEG q95 grey', jpg]);

    const rows: Row[] = [];
    for (const [input, file] of files) rows.push(await time(input, file, reps));
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ width: WIDTH, height: HEIGHT, reps, rows }, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      `decode + preprocess (518) of a ${WIDTH}x${HEIGHT} image, median of ${reps} runs\n\n`,
    );
    const w = Math.max(...rows.map((r) => r.input.length));
    process.stdout.write(
      `${'input'.padEnd(w)}  ${'size MB'.padStart(8)}  ${'decode ms'.padStart(9)}  ${'prep ms'.padStart(8)}  ${'total ms'.padStart(8)}\n`,
    );
    for (const r of rows)
      process.stdout.write(
        `${r.input.padEnd(w)}  ${(r.bytes / 2 ** 20).toFixed(2).padStart(8)}  ${r.decodeMs.toFixed(0).padStart(9)}  ${r.preprocessMs.toFixed(0).padStart(8)}  ${r.totalMs.toFixed(0).padStart(8)}\n`,
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
