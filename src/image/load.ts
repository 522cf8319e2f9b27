/**
 * One entry point for every image a user may hand us: sniff the format from the bytes (never the file name),
 * read the header, validate it, and only then decode the pixels to an 8-bit raster.
 */
import { readFile } from 'node:fs/promises';
import { inputError, isCxrError } from '../errors.js';
import { decodeFirstFrame } from './dicom-decode.js';
import { parseDicomFile } from './dicom-parse.js';
import { renderFrame } from './dicom-render.js';
import { decodeRasterFile, readRasterFileMetadata } from './raster-file.js';
import type { ImageFormat, ImageMetadata, LoadedImage, LoadOptions, Verdict } from './types.js';
import { validate } from './validate.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const DICOM_PREAMBLE = 128;

/** What the bytes are, or undefined. DICOM means Part 10 ('DICM' after the 128-byte preamble). */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  const magic = String.fromCharCode(...bytes.subarray(DICOM_PREAMBLE, DICOM_PREAMBLE + 4));
  if (magic === 'DICM') return 'dicom';
  return undefined;
}

async function readBytes(path: string): Promise<{ bytes: Uint8Array; format: ImageFormat }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw inputError(
      'image.unreadable',
      code === 'ENOENT' ? 'no such file' : `cannot read the file (${code})`,
      {
        file: path,
        cause: e,
      },
    );
  }
  if (bytes.length === 0) throw inputError('image.empty', 'the file is empty', { file: path });
  const format = sniffFormat(bytes);
  if (!format)
    throw inputError('image.unknown_format', 'not a PNG, JPEG or DICOM Part 10 file', {
      file: path,
      expected: 'PNG signature, JPEG SOI marker, or "DICM" at byte 128',
      found: describeStart(bytes),
    });
  return { bytes, format };
}

function describeStart(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 8);
  const printable = head.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127));
  return printable
    ? `text starting ${JSON.stringify(new TextDecoder().decode(head))}`
    : `bytes ${Buffer.from(head).toString('hex')}`;
}

/** Throw when the verdict forbids use and no override allows it. */
export function enforceVerdict(file: string, verdict: Verdict, options: LoadOptions): void {
  if (options.allowNonChest) return;
  if (verdict.status === 'refused')
    throw inputError('image.not_chest_radiograph', `not a chest radiograph: ${verdict.reasons[0]}`, {
      file,
      expected: 'a single-frame frontal chest radiograph (override: allowNonChest / --allow-non-chest)',
    });
  if (verdict.status === 'lateral' && !options.allowLateral)
    throw inputError('image.lateral_view', verdict.reasons[0]!, {
      file,
      expected: 'a frontal (AP/PA) view (override: allowLateral / --allow-lateral)',
    });
}

/**
 * Read an image file into an 8-bit raster with its metadata and verdict. Throws a CxrError (kind 'input')
 * for anything unreadable, and for non-chest or lateral images unless `options` allows them.
 */
export async function loadImage(path: string, options: LoadOptions = {}): Promise<LoadedImage> {
  const { bytes, format } = await readBytes(path);
  try {
    if (format === 'dicom') {
      const parsed = parseDicomFile(path, bytes);
      const verdict = validate(parsed.metadata);
      enforceVerdict(path, verdict, options);
      const frame = await decodeFirstFrame(parsed);
      const { raster, voi } = renderFrame(parsed, frame, options);
      return { raster, metadata: { ...parsed.metadata, rendering: voi }, verdict };
    }
    const { raster, metadata } = await decodeRasterFile(path, bytes, format, options.sixteenBit);
    const verdict = validate(metadata);
    enforceVerdict(path, verdict, options);
    return { raster, metadata, verdict };
  } catch (e) {
    throw asInputError(path, e);
  }
}

/** Metadata and verdict from the header only (no pixel decoding): what `cxr inspect` shows. */
export async function inspectImage(path: string): Promise<{ metadata: ImageMetadata; verdict: Verdict }> {
  const { bytes, format } = await readBytes(path);
  try {
    const metadata =
      format === 'dicom'
        ? parseDicomFile(path, bytes).metadata
        : await readRasterFileMetadata(path, bytes, format);
    return { metadata, verdict: validate(metadata) };
  } catch (e) {
    throw asInputError(path, e);
  }
}

/**
 * What a decoder throws on a bad file is the file's fault: report it as an input error naming the file
 * (library messages are not always Error instances, and WebAssembly aborts are RuntimeErrors). Programming
 * errors (TypeError, ReferenceError) stay internal so that bugs are not blamed on the user's file.
 */
function asInputError(file: string, e: unknown): Error {
  if (isCxrError(e)) return e;
  if (e instanceof TypeError || e instanceof ReferenceError) return e;
  const message = e instanceof Error ? e.message : typeof e === 'string' ? e : JSON.stringify(e);
  if (e instanceof RangeError && /allocation|Array buffer/i.test(message))
    return inputError('image.too_large', 'not enough memory to decode this image', { file, cause: e });
  return inputError('image.corrupt', `cannot decode the image (${message.split('\n')[0]})`, {
    file,
    cause: e,
  });
}
