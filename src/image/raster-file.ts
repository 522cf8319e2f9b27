/**
 * PNG and JPEG through sharp (libvips): header first (size checked before any pixel is allocated),
 * then the pixels as 8-bit grey or RGB, the way PIL's `Image.open(f).convert('RGB')` sees them:
 * alpha dropped (not composited), no colour management, grey kept as one channel.
 */
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { inputError } from '../errors.js';
import { checkDimensions } from './limits.js';
import type { ImageFormat, ImageMetadata, Raster, SixteenBitMode } from './types.js';

interface Header {
  format: ImageFormat;
  width: number;
  height: number;
  bitDepth: number;
  channels: number;
}

// ignoreIcc: PIL applies no colour management, so neither do we (the stored samples are what the model saw).
const SHARP_OPTIONS = {
  failOn: 'error',
  limitInputPixels: false,
  sequentialRead: true,
  ignoreIcc: true,
} as const;

function describe(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0]! : String(e);
}

async function readHeader(file: string, bytes: Uint8Array, format: 'png' | 'jpeg'): Promise<Header> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, SHARP_OPTIONS).metadata();
  } catch (e) {
    throw inputError('image.corrupt', `unreadable ${format.toUpperCase()} header (${describe(e)})`, { file });
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  checkDimensions(file, width, height);
  const sixteen = meta.depth === 'ushort' || meta.bitsPerSample === 16;
  return { format, width, height, bitDepth: sixteen ? 16 : 8, channels: meta.channels ?? 0 };
}

export async function readRasterFileMetadata(
  file: string,
  bytes: Uint8Array,
  format: 'png' | 'jpeg',
): Promise<ImageMetadata> {
  return { file, ...(await readHeader(file, bytes, format)) };
}

/** Decode a PNG or JPEG to an 8-bit raster (16-bit PNGs are reduced per `sixteenBit`). */
export async function decodeRasterFile(
  file: string,
  bytes: Uint8Array,
  format: 'png' | 'jpeg',
  sixteenBit: SixteenBitMode = 'minmax',
): Promise<{ raster: Raster; metadata: ImageMetadata }> {
  const header = await readHeader(file, bytes, format);
  const metadata: ImageMetadata = { file, ...header };
  try {
    const pipeline = sharp(bytes, SHARP_OPTIONS).removeAlpha();
    if (header.bitDepth === 16) {
      const grey = header.channels <= 2;
      const { data, info } = await pipeline
        .toColourspace(grey ? 'grey16' : 'rgb16')
        .raw({ depth: 'ushort' })
        .toBuffer({ resolveWithObject: true });
      const words = new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
      return { raster: collapseGrey(toRaster(info, to8bit(words, sixteenBit))), metadata };
    }
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    return {
      raster: collapseGrey(toRaster(info, new Uint8Array(data.buffer, data.byteOffset, data.length))),
      metadata,
    };
  } catch (e) {
    throw inputError('image.corrupt', `cannot decode ${format.toUpperCase()} pixel data (${describe(e)})`, {
      file,
    });
  }
}

function toRaster(info: OutputInfo, data: Uint8Array): Raster {
  if (info.channels !== 1 && info.channels !== 3)
    throw new Error(`unexpected channel count ${info.channels} after decoding`);
  return { width: info.width, height: info.height, channels: info.channels, data };
}

/** 16 -> 8 bits: stretch the used range (like a DICOM without VOI) or divide by 257 (full-scale). */
function to8bit(words: Uint16Array, mode: SixteenBitMode): Uint8Array {
  const out = new Uint8Array(words.length);
  if (mode === 'scale') {
    for (let i = 0; i < words.length; i++) out[i] = Math.round(words[i]! / 257);
    return out;
  }
  let lo = 65535;
  let hi = 0;
  for (const w of words) {
    if (w < lo) lo = w;
    if (w > hi) hi = w;
  }
  const span = hi - lo || 1;
  for (let i = 0; i < words.length; i++) out[i] = Math.round(((words[i]! - lo) * 255) / span);
  return out;
}

/** RGB whose channels are equal everywhere (most CXR PNG/JPEGs) becomes grey: same result, a third the work. */
export function collapseGrey(r: Raster): Raster {
  if (r.channels === 1) return r;
  const d = r.data;
  const n = r.width * r.height;
  for (let i = 0; i < n; i++) {
    const j = i * 3;
    if (d[j] !== d[j + 1] || d[j] !== d[j + 2]) return r;
  }
  const grey = new Uint8Array(n);
  for (let i = 0; i < n; i++) grey[i] = d[i * 3]!;
  return { width: r.width, height: r.height, channels: 1, data: grey };
}
