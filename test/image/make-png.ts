/** A minimal 16-bit greyscale PNG writer for tests and benches (sharp cannot take 16-bit raw input). */
import { crc32, deflateSync } from 'node:zlib';

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

export function png16(words: Uint16Array, width: number, height: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const h = new DataView(ihdr.buffer);
  h.setUint32(0, width);
  h.setUint32(4, height);
  ihdr.set([16, 0, 0, 0, 0], 8); // bit depth 16, greyscale, deflate, adaptive filtering, no interlace
  const rows = new Uint8Array(height * (1 + width * 2));
  const r = new DataView(rows.buffer);
  for (let y = 0; y < height; y++) {
    const base = y * (1 + width * 2); // filter byte 0 (None), then big-endian samples
    for (let x = 0; x < width; x++) r.setUint16(base + 1 + x * 2, words[y * width + x]!);
  }
  const parts = [
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
