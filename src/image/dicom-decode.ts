/**
 * Frame 0 of a parsed DICOM to stored sample values: native pixel data is unpacked here (either byte order);
 * RLE, every JPEG process, JPEG-LS, JPEG 2000, HTJ2K and JPEG XL go through dcmjs-codecs' WebAssembly codecs.
 */
import dcmjsCodecs from 'dcmjs-codecs';
import { inputError, isCxrError } from '../errors.js';
import { checkFrameHeader } from './codestream.js';
import { firstFrameBytes, type ParsedDicom } from './dicom-parse.js';
import { checkDimensions } from './limits.js';
import type { PixelEncoding } from './transfer-syntax.js';

/** Stored values of frame 0: grey (1 sample) or interleaved RGB (3 samples), sign already applied. */
export interface StoredFrame {
  width: number;
  height: number;
  samples: 1 | 3;
  values: Int32Array;
  /** Photometric interpretation of `values` (colour decoders may already have converted YBR to RGB). */
  photometric: string;
}

const { NativeCodecs, Context } = dcmjsCodecs;
let codecsReady: Promise<void> | undefined;

/** Load the WebAssembly codecs (once per process, and again after a reset). */
export async function initCodecs(): Promise<void> {
  // The library logs codec errors to the console; we report them as typed errors instead.
  dcmjsCodecs.log.setLevel('silent');
  codecsReady ??= NativeCodecs.initializeAsync();
  await codecsReady;
}

function resetCodecs(): void {
  try {
    NativeCodecs.release();
  } catch {
    // already unusable; initCodecs() starts over either way
  }
  codecsReady = undefined;
}

type Decoder = (ctx: InstanceType<typeof Context>) => InstanceType<typeof Context>;

const DECODERS: Record<Exclude<PixelEncoding, 'native'>, Decoder> = {
  rle: (c) => NativeCodecs.decodeRle(c),
  jpeg: (c) => NativeCodecs.decodeJpeg(c, { convertColorspaceToRgb: true }),
  jpegls: (c) => NativeCodecs.decodeJpegLs(c),
  j2k: (c) => NativeCodecs.decodeJpeg2000(c),
  htj2k: (c) => NativeCodecs.decodeHtJpeg2000(c),
  jpegxl: (c) => NativeCodecs.decodeJpegXl(c),
};

function unsupported(parsed: ParsedDicom, what: string, found: string, field: string): Error {
  return inputError('dicom.unsupported', what, { file: parsed.file, field, found });
}

/** Check the pixel module describes something we can decode, before allocating anything. */
function checkPixelModule(parsed: ParsedDicom): void {
  const px = parsed.pixel!;
  checkDimensions(parsed.file, px.columns, px.rows);
  if (px.samplesPerPixel !== 1 && px.samplesPerPixel !== 3)
    throw unsupported(parsed, 'only 1 or 3 samples per pixel', String(px.samplesPerPixel), 'SamplesPerPixel');
  if (px.bitsAllocated !== 8 && px.bitsAllocated !== 16)
    throw unsupported(
      parsed,
      'only 8- or 16-bit allocated samples',
      String(px.bitsAllocated),
      'BitsAllocated',
    );
  if (px.bitsStored < 1 || px.bitsStored > px.bitsAllocated)
    throw inputError('dicom.corrupt', 'BitsStored is out of range', {
      file: parsed.file,
      field: 'BitsStored',
      expected: `1..${px.bitsAllocated}`,
      found: String(px.bitsStored),
    });
  if (px.samplesPerPixel === 3 && px.bitsAllocated !== 8)
    throw unsupported(parsed, 'colour images must be 8-bit', String(px.bitsAllocated), 'BitsAllocated');
}

export async function decodeFirstFrame(parsed: ParsedDicom): Promise<StoredFrame> {
  const px = parsed.pixel;
  if (!px)
    throw inputError('dicom.no_pixel_data', 'the DICOM holds no pixel data (not an image)', {
      file: parsed.file,
      field: 'PixelData (7FE0,0010)',
    });
  const syntax = parsed.syntax;
  if (!syntax)
    throw unsupported(
      parsed,
      'unsupported transfer syntax',
      `${parsed.metadata.transferSyntax || '(none)'} (${parsed.metadata.transferSyntaxName})`,
      'TransferSyntaxUID (0002,0010)',
    );
  checkPixelModule(parsed);
  const bytesPerSample = px.bitsAllocated / 8;
  const frameBytes = px.rows * px.columns * px.samplesPerPixel * bytesPerSample;
  const encoded = firstFrameBytes(parsed, frameBytes);
  let raw: Uint8Array = encoded;
  let photometric = px.photometric;
  let planar = px.planarConfiguration;
  if (syntax.encoding !== 'native') {
    checkFrameHeader(parsed.file, syntax.encoding, encoded, px);
    // Another image's failed decode may reset the codecs while we wait; the check and the synchronous
    // decode run in one turn of the event loop, so nothing can intervene between them.
    while (!NativeCodecs.isInitialized()) await initCodecs();
    const decoded = runCodec(parsed, syntax.encoding, encoded);
    raw = decoded.bytes;
    photometric = decoded.photometric ?? photometric;
    // Colour codecs hand back interleaved samples, except RLE which keeps colour-by-plane segments.
    planar = syntax.encoding === 'rle' && px.samplesPerPixel === 3 ? 1 : 0;
    if (raw.length < frameBytes)
      throw inputError('dicom.corrupt', 'the codec returned fewer samples than the image needs', {
        file: parsed.file,
        expected: `${frameBytes} bytes`,
        found: `${raw.length} bytes`,
      });
  }
  const values = unpack(
    raw,
    px.rows * px.columns * px.samplesPerPixel,
    px,
    Boolean(syntax.bigEndian) && syntax.encoding === 'native',
  );
  const samples = px.samplesPerPixel as 1 | 3;
  return {
    width: px.columns,
    height: px.rows,
    samples,
    values: samples === 3 && planar === 1 ? interleave(values) : values,
    photometric,
  };
}

function runCodec(parsed: ParsedDicom, encoding: Exclude<PixelEncoding, 'native'>, encoded: Uint8Array) {
  const px = parsed.pixel!;
  const ctx = new Context({
    width: px.columns,
    height: px.rows,
    bitsAllocated: px.bitsAllocated,
    bitsStored: px.bitsStored,
    samplesPerPixel: px.samplesPerPixel,
    pixelRepresentation: px.pixelRepresentation,
    planarConfiguration: px.planarConfiguration,
    photometricInterpretation: px.photometric,
    encodedBuffer: encoded,
  });
  try {
    const out = DECODERS[encoding](ctx);
    const bytes = out.getDecodedBuffer();
    if (!bytes) throw new Error('no output');
    return { bytes, photometric: out.getPhotometricInterpretation() };
  } catch (e) {
    if (isCxrError(e)) throw e;
    // A codec error unwinds the WebAssembly stack mid-call: start the next image on a fresh module.
    resetCodecs();
    throw inputError(
      'dicom.corrupt',
      `the ${parsed.metadata.transferSyntaxName} pixel data does not decode`,
      {
        file: parsed.file,
        field: 'PixelData',
        found: e instanceof Error ? e.message : String(e),
        cause: e,
      },
    );
  }
}

/** Little/big-endian 8/16-bit containers to values: mask to BitsStored, sign-extend when signed. */
function unpack(
  raw: Uint8Array,
  count: number,
  px: { bitsAllocated: number; bitsStored: number; pixelRepresentation: number },
  bigEndian: boolean,
): Int32Array {
  const out = new Int32Array(count);
  const shift = 32 - px.bitsStored;
  const signed = px.pixelRepresentation === 1;
  const mask = px.bitsStored >= 32 ? -1 : (1 << px.bitsStored) - 1;
  // Native little-endian words can be viewed in place when aligned; otherwise read them byte by byte.
  const words =
    px.bitsAllocated === 16 && !bigEndian && raw.byteOffset % 2 === 0
      ? new Uint16Array(raw.buffer, raw.byteOffset, count)
      : undefined;
  for (let i = 0; i < count; i++) {
    const stored =
      px.bitsAllocated === 8
        ? raw[i]!
        : words
          ? words[i]!
          : bigEndian
            ? (raw[2 * i]! << 8) | raw[2 * i + 1]!
            : raw[2 * i]! | (raw[2 * i + 1]! << 8);
    const v = stored & mask;
    out[i] = signed ? (v << shift) >> shift : v;
  }
  return out;
}

/** Colour-by-plane (RRR..GGG..BBB..) to interleaved (RGBRGB..). */
function interleave(planes: Int32Array): Int32Array {
  const n = planes.length / 3;
  const out = new Int32Array(planes.length);
  for (let i = 0; i < n; i++) {
    out[i * 3] = planes[i]!;
    out[i * 3 + 1] = planes[n + i]!;
    out[i * 3 + 2] = planes[2 * n + i]!;
  }
  return out;
}
