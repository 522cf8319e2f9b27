/**
 * A minimal PNG writer for tests and benches: 8- or 16-bit grey or RGB, unfiltered rows, optional extra chunks
 * (e.g. an iCCP profile). sharp cannot take 16-bit raw input, and writing the bytes ourselves means a test
 * knows exactly which sample values are stored.
 */
import { crc32, deflateSync } from 'node:zlib';
import { concat } from './make-dicom.js';

export interface PngSpec {
  width: number;
  height: number;
  channels: 1 | 3;
  bitDepth: 8 | 16;
  /** Samples row-major, channel-interleaved. */
  data: Uint8Array | Uint16Array;
  /** Extra chunks placed before IDAT, as [type, data]. */
  chunks?: Array<[string, Uint8Array]>;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

export function encodePng(spec: PngSpec): Uint8Array {
  const { width, height, channels, bitDepth, data } = spec;
  const ihdr = new Uint8Array(13);
  const h = new DataView(ihdr.buffer);
  h.setUint32(0, width);
  h.setUint32(4, height);
  ihdr.set([bitDepth, channels === 3 ? 2 : 0, 0, 0, 0], 8); // colour type 0 grey / 2 RGB; no interlace
  const bytesPerSample = bitDepth / 8;
  const rowBytes = width * channels * bytesPerSample;
  const rows = new Uint8Array(height * (1 + rowBytes));
  const r = new DataView(rows.buffer);
  for (let y = 0; y < height; y++) {
    const base = y * (1 + rowBytes) + 1; // filter byte 0 (None), then big-endian samples
    for (let i = 0; i < width * channels; i++) {
      const v = data[y * width * channels + i]!;
      if (bitDepth === 16) r.setUint16(base + i * 2, v);
      else rows[base + i] = v;
    }
  }
  const parts = [
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...(spec.chunks ?? []).map(([type, body]) => chunk(type, body)),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', new Uint8Array(0)),
  ];
  return concat(parts);
}

export function png16(words: Uint16Array, width: number, height: number): Uint8Array {
  return encodePng({ width, height, channels: 1, bitDepth: 16, data: words });
}

/** The body of the first chunk of `type` in a PNG, if any. */
export function findChunk(png: Uint8Array, type: string): Uint8Array | undefined {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  for (let o = 8; o + 8 <= png.length; ) {
    const len = view.getUint32(o);
    if (String.fromCharCode(...png.subarray(o + 4, o + 8)) === type) return png.subarray(o + 8, o + 8 + len);
    o += 12 + len;
  }
  return undefined;
}
