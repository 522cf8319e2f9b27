/**
 * Check a compressed frame's own header against the DICOM pixel module before handing it to a codec.
 * A codestream that claims another size (or an impossible one) is refused here: codecs given, say, a JPEG 2000
 * image offset larger than the image, spin for minutes; one claiming 60000 x 60000 would allocate gigabytes.
 */
import { inputError } from '../errors.js';
import type { PixelModule } from './dicom-parse.js';
import type { PixelEncoding } from './transfer-syntax.js';

/** How far into a frame its size header may start (JP2 boxes or padding before the codestream). */
const HEADER_SEARCH_BYTES = 4096;
/** Most JPEG 2000 tiles accepted (a few 1x1-pixel tiles would make decoding crawl). */
const MAX_J2K_TILES = 4096;

interface FrameHeader {
  width: number;
  height: number;
  components: number;
  tiles?: number;
}

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16) + (b[o + 2]! << 8) + b[o + 3]!;
}

/** JPEG 2000 / HTJ2K: the SIZ segment right after SOC (FF4F FF51). */
function j2kHeader(b: Uint8Array): FrameHeader | undefined {
  const end = Math.min(b.length - 42, HEADER_SEARCH_BYTES);
  for (let i = 0; i < end; i++) {
    if (b[i] !== 0xff || b[i + 1] !== 0x4f || b[i + 2] !== 0xff || b[i + 3] !== 0x51) continue;
    const s = i + 4;
    const [xsiz, ysiz, xo, yo, xt, yt, xto, yto] = [4, 8, 12, 16, 20, 24, 28, 32].map((o) => u32(b, s + o));
    if (xo! >= xsiz! || yo! >= ysiz! || xt === 0 || yt === 0 || xto! > xo! || yto! > yo!)
      return { width: -1, height: -1, components: 0 };
    const tiles = Math.ceil((xsiz! - xto!) / xt!) * Math.ceil((ysiz! - yto!) / yt!);
    return { width: xsiz! - xo!, height: ysiz! - yo!, components: u16(b, s + 36), tiles };
  }
  return undefined;
}

/** JPEG (any process) and JPEG-LS: the first SOFn / SOF55 segment. */
function jpegHeader(b: Uint8Array): FrameHeader | undefined {
  let i = 2; // after SOI
  while (i + 9 < b.length && i < HEADER_SEARCH_BYTES * 16) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    const isSof =
      (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) ||
      marker === 0xf7;
    if (isSof) return { height: u16(b, i + 5), width: u16(b, i + 7), components: b[i + 9]! };
    i += 2 + u16(b, i + 2);
  }
  return undefined;
}

/** Throw unless the frame's header (when we can find one) matches Rows, Columns and SamplesPerPixel. */
export function checkFrameHeader(
  file: string,
  encoding: PixelEncoding,
  frame: Uint8Array,
  px: PixelModule,
): void {
  const header =
    encoding === 'j2k' || encoding === 'htj2k'
      ? j2kHeader(frame)
      : encoding === 'jpeg' || encoding === 'jpegls'
        ? jpegHeader(frame)
        : undefined;
  if (!header) {
    if (encoding === 'j2k' || encoding === 'htj2k' || encoding === 'jpeg' || encoding === 'jpegls')
      throw inputError('dicom.corrupt', 'the compressed frame has no readable size header', {
        file,
        field: 'PixelData',
      });
    return;
  }
  const found = `${header.width}x${header.height}, ${header.components} component(s)`;
  if (header.width !== px.columns || header.height !== px.rows || header.components !== px.samplesPerPixel)
    throw inputError('dicom.corrupt', 'the compressed frame does not match the image size in the header', {
      file,
      field: 'PixelData',
      expected: `${px.columns}x${px.rows}, ${px.samplesPerPixel} component(s) (Columns, Rows, SamplesPerPixel)`,
      found,
    });
  if ((header.tiles ?? 1) > MAX_J2K_TILES)
    throw inputError('dicom.corrupt', 'the JPEG 2000 frame is cut into implausibly many tiles', {
      file,
      field: 'PixelData',
      expected: `at most ${MAX_J2K_TILES} tiles`,
      found: String(header.tiles),
    });
}
