/**
 * Builds small DICOM Part 10 files for tests and benches: any of the transfer syntaxes cxr reads, with frames
 * compressed by dcmjs-codecs' own encoders. Only the handful of attributes cxr reads are written.
 */
import { deflateRawSync } from 'node:zlib';
import dcmjsCodecs from 'dcmjs-codecs';

const { NativeCodecs, Context } = dcmjsCodecs;

export type Value = string | number[] | Uint8Array | Item[];
/** A dataset as [tag "GGGGEEEE", VR, value]; SQ values are lists of items. */
export type Item = Array<[string, string, Value]>;

export const SYNTAX = {
  implicitLE: '1.2.840.10008.1.2',
  explicitLE: '1.2.840.10008.1.2.1',
  explicitBE: '1.2.840.10008.1.2.2',
  deflated: '1.2.840.10008.1.2.1.99',
  rle: '1.2.840.10008.1.2.5',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
  jpegExtended: '1.2.840.10008.1.2.4.51',
  jpegLossless: '1.2.840.10008.1.2.4.57',
  jpegLosslessSV1: '1.2.840.10008.1.2.4.70',
  jpegLs: '1.2.840.10008.1.2.4.80',
  jpegLsNear: '1.2.840.10008.1.2.4.81',
  j2kLossless: '1.2.840.10008.1.2.4.90',
  j2k: '1.2.840.10008.1.2.4.91',
  htj2kLossless: '1.2.840.10008.1.2.4.201',
  htj2kRpcl: '1.2.840.10008.1.2.4.202',
  htj2k: '1.2.840.10008.1.2.4.203',
} as const;

const LONG_VRS = new Set(['OB', 'OW', 'OF', 'SQ', 'UN', 'UT', 'UC', 'UR', 'OD', 'OL']);
const NATIVE = new Set<string>([SYNTAX.implicitLE, SYNTAX.explicitLE, SYNTAX.explicitBE, SYNTAX.deflated]);

class Writer {
  private chunks: Uint8Array[] = [];
  constructor(
    private readonly explicit: boolean,
    private readonly bigEndian: boolean,
  ) {}
  bytes(b: Uint8Array): void {
    this.chunks.push(b);
  }
  u16(v: number): void {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, v, !this.bigEndian);
    this.bytes(b);
  }
  u32(v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, !this.bigEndian);
    this.bytes(b);
  }
  header(tag: string, vr: string, length: number): void {
    this.u16(Number.parseInt(tag.slice(0, 4), 16));
    this.u16(Number.parseInt(tag.slice(4), 16));
    if (!this.explicit) {
      this.u32(length);
      return;
    }
    this.bytes(new TextEncoder().encode(vr));
    if (LONG_VRS.has(vr)) {
      this.u16(0);
      this.u32(length);
    } else this.u16(length);
  }
  element(tag: string, vr: string, value: Value): void {
    const body = this.encodeValue(vr, value);
    this.header(tag, vr, body.length);
    this.bytes(body);
  }
  encodeValue(vr: string, value: Value): Uint8Array {
    if (vr === 'SQ') {
      const w = new Writer(this.explicit, this.bigEndian);
      for (const item of value as Item[]) {
        const inner = new Writer(this.explicit, this.bigEndian);
        for (const [t, v, x] of item) inner.element(t, v, x);
        const body = inner.done();
        w.u16(0xfffe);
        w.u16(0xe000);
        w.u32(body.length);
        w.bytes(body);
      }
      return w.done();
    }
    if (typeof value === 'string') {
      const s = value.length % 2 ? value + (vr === 'UI' ? '\0' : ' ') : value;
      return new TextEncoder().encode(s);
    }
    if (value instanceof Uint8Array) {
      const padded = value.length % 2 ? concat([value, new Uint8Array(1)]) : value;
      if (vr === 'OW' && this.bigEndian) return swap16(padded);
      return padded;
    }
    const nums = value as number[];
    const size = vr === 'UL' ? 4 : 2;
    const b = new Uint8Array(nums.length * size);
    const dv = new DataView(b.buffer);
    nums.forEach((n, i) => {
      if (vr === 'UL') dv.setUint32(i * 4, n, !this.bigEndian);
      else if (vr === 'SS') dv.setInt16(i * 2, n, !this.bigEndian);
      else dv.setUint16(i * 2, n, !this.bigEndian);
    });
    return b;
  }
  done(): Uint8Array {
    return concat(this.chunks);
  }
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function swap16(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  for (let i = 0; i + 1 < b.length; i += 2) {
    out[i] = b[i + 1]!;
    out[i + 1] = b[i]!;
  }
  return out;
}

/** File meta group (always explicit little endian) + preamble. */
function fileMeta(syntax: string, sopClass: string): Uint8Array {
  const w = new Writer(true, false);
  w.element('00020001', 'OB', new Uint8Array([0, 1]));
  w.element('00020002', 'UI', sopClass);
  w.element('00020003', 'UI', '1.2.826.0.1.3680043.8.498.1');
  w.element('00020010', 'UI', syntax);
  w.element('00020012', 'UI', '1.2.826.0.1.3680043.8.498.2');
  const rest = w.done();
  const head = new Writer(true, false);
  head.element('00020000', 'UL', [rest.length]);
  return concat([new Uint8Array(128), new TextEncoder().encode('DICM'), head.done(), rest]);
}

/** Encapsulated pixel data: empty basic offset table, one fragment per frame, sequence delimiter. */
function encapsulate(frames: Uint8Array[]): Uint8Array {
  const w = new Writer(true, false);
  w.header('7FE00010', 'OB', 0xffffffff);
  const item = (b: Uint8Array) => {
    w.u16(0xfffe);
    w.u16(0xe000);
    w.u32(b.length);
    w.bytes(b);
  };
  item(new Uint8Array(0));
  for (const f of frames) item(f.length % 2 ? concat([f, new Uint8Array(1)]) : f);
  w.u16(0xfffe);
  w.u16(0xe0dd);
  w.u32(0);
  return w.done();
}

export interface ImageSpec {
  width: number;
  height: number;
  /** Stored values, row-major (grey) or interleaved RGB. */
  values: Uint16Array | Uint8Array | Int16Array;
  bitsAllocated?: 8 | 16;
  bitsStored?: number;
  signed?: boolean;
  samplesPerPixel?: 1 | 3;
  photometric?: string;
  modality?: string;
  viewPosition?: string;
  bodyPart?: string;
  sopClass?: string;
  frames?: number;
  /** Extra attributes (window, rescale, VOI LUT sequence...). */
  extra?: Item;
  /** Leave out the Pixel Data element entirely. */
  noPixelData?: boolean;
  /** An already-encoded frame to store instead of encoding `values`. */
  frame?: Uint8Array;
}

/** The native (little-endian) bytes of the stored values. */
function nativeBytes(spec: ImageSpec): Uint8Array {
  const v = spec.values;
  return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
}

export async function encodeFrame(spec: ImageSpec, syntax: string): Promise<Uint8Array> {
  await NativeCodecs.initializeAsync();
  const bitsAllocated = spec.bitsAllocated ?? 16;
  const ctx = new Context({
    width: spec.width,
    height: spec.height,
    bitsAllocated,
    bitsStored: spec.bitsStored ?? bitsAllocated,
    samplesPerPixel: spec.samplesPerPixel ?? 1,
    pixelRepresentation: spec.signed ? 1 : 0,
    planarConfiguration: 0,
    photometricInterpretation: spec.photometric ?? 'MONOCHROME2',
    decodedBuffer: nativeBytes(spec),
  });
  const encoders: Record<string, () => InstanceType<typeof Context>> = {
    [SYNTAX.rle]: () => NativeCodecs.encodeRle(ctx),
    [SYNTAX.jpegBaseline]: () => NativeCodecs.encodeJpeg(ctx, { lossy: true, quality: 90 }),
    [SYNTAX.jpegExtended]: () => NativeCodecs.encodeJpeg(ctx, { lossy: true, quality: 90 }),
    [SYNTAX.jpegLossless]: () => NativeCodecs.encodeJpeg(ctx, { lossy: false, predictor: 6 }),
    [SYNTAX.jpegLosslessSV1]: () => NativeCodecs.encodeJpeg(ctx, { lossy: false, predictor: 1 }),
    [SYNTAX.jpegLs]: () => NativeCodecs.encodeJpegLs(ctx, { lossy: false }),
    [SYNTAX.jpegLsNear]: () => NativeCodecs.encodeJpegLs(ctx, { lossy: true, allowedLossyError: 2 }),
    [SYNTAX.j2kLossless]: () => NativeCodecs.encodeJpeg2000(ctx, { lossy: false }),
    [SYNTAX.j2k]: () => NativeCodecs.encodeJpeg2000(ctx, { lossy: true, rate: 10 }),
    [SYNTAX.htj2kLossless]: () => NativeCodecs.encodeHtJpeg2000(ctx, { lossy: false }),
    [SYNTAX.htj2kRpcl]: () => NativeCodecs.encodeHtJpeg2000(ctx, { lossy: false, progressionOrder: 2 }),
    [SYNTAX.htj2k]: () => NativeCodecs.encodeHtJpeg2000(ctx, { lossy: true }),
  };
  const encode = encoders[syntax];
  if (!encode) throw new Error(`no encoder for ${syntax}`);
  const out = encode().getEncodedBuffer();
  if (!out) throw new Error(`encoder for ${syntax} returned nothing`);
  return out;
}

/** A complete Part 10 file in `syntax`. Compressed frames are made with dcmjs-codecs. */
export async function makeDicom(spec: ImageSpec, syntax: string): Promise<Uint8Array> {
  const explicit = syntax !== SYNTAX.implicitLE;
  const bigEndian = syntax === SYNTAX.explicitBE;
  const bitsAllocated = spec.bitsAllocated ?? 16;
  const sopClass = spec.sopClass ?? '1.2.840.10008.5.1.4.1.1.1.1'; // Digital X-Ray Image Storage - For Presentation
  const items: Item = [
    ['00080016', 'UI', sopClass],
    ['00080060', 'CS', spec.modality ?? 'DX'],
    ['00180015', 'CS', spec.bodyPart ?? 'CHEST'],
    ['00185101', 'CS', spec.viewPosition ?? 'PA'],
    ['00280002', 'US', [spec.samplesPerPixel ?? 1]],
    ['00280004', 'CS', spec.photometric ?? 'MONOCHROME2'],
    ...(spec.samplesPerPixel === 3 ? ([['00280006', 'US', [0]]] as Item) : []),
    ...(spec.frames ? ([['00280008', 'IS', String(spec.frames)]] as Item) : []),
    ['00280010', 'US', [spec.height]],
    ['00280011', 'US', [spec.width]],
    ['00280100', 'US', [bitsAllocated]],
    ['00280101', 'US', [spec.bitsStored ?? bitsAllocated]],
    ['00280102', 'US', [(spec.bitsStored ?? bitsAllocated) - 1]],
    ['00280103', 'US', [spec.signed ? 1 : 0]],
    ...(spec.extra ?? []),
  ];
  items.sort((a, b) => a[0].localeCompare(b[0]));
  const w = new Writer(explicit, bigEndian);
  for (const [tag, vr, value] of items) w.element(tag, vr, value);
  let body = w.done();
  if (!spec.noPixelData) {
    // Unknown syntaxes (for refusal tests) get native pixel data.
    if (NATIVE.has(syntax) || !Object.values(SYNTAX).includes(syntax as never)) {
      const px = new Writer(explicit, bigEndian);
      px.element('7FE00010', bitsAllocated === 16 ? 'OW' : 'OB', nativeBytes(spec));
      body = concat([body, px.done()]);
    } else {
      body = concat([body, encapsulate([spec.frame ?? (await encodeFrame(spec, syntax))])]);
    }
  }
  if (syntax === SYNTAX.deflated) body = deflateRawSync(body);
  return concat([fileMeta(syntax, sopClass), body]);
}

/** A smooth 12-bit test pattern (a soft bright blob on a ramp), so lossy codecs stay close to it. */
export function testPattern(width: number, height: number, bits = 12): Uint16Array {
  const v = new Uint16Array(width * height);
  const top = 2 ** bits - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const r = Math.hypot(x - width / 2, y - height / 2) / Math.min(width, height);
      const ramp = (x / width) * 0.5 + (y / height) * 0.2;
      v[y * width + x] = Math.round(top * Math.min(1, ramp + 0.3 * Math.exp(-r * r * 8)));
    }
  }
  return v;
}

/**
 * A 12-bit lossy JPEG (process 4) from an 8-bit one: same entropy-coded data, SOF1 with precision 12, and
 * quantisation tables multiplied by 16 (stored as 16-bit entries). The IDCT output is then 16x larger and the
 * level shift 2048 instead of 128, so the 12-bit samples are 16x the 8-bit ones (up to IDCT rounding).
 * dcmjs-codecs has no 12-bit lossy encoder; this is how the 12-bit decode path gets a known answer.
 */
export function jpeg8to12(jpeg8: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.from([0xff, 0xd8])];
  let i = 2;
  while (i < jpeg8.length) {
    const marker = jpeg8[i + 1]!;
    const len = (jpeg8[i + 2]! << 8) | jpeg8[i + 3]!;
    const body = jpeg8.subarray(i + 4, i + 2 + len);
    if (marker === 0xdb) {
      const tables: number[] = [];
      for (let t = 0; t < body.length; t += 65) {
        if (body[t]! >> 4 !== 0) throw new Error('expected 8-bit quantisation tables');
        tables.push(0x10 | (body[t]! & 0x0f));
        for (let q = 1; q <= 64; q++) tables.push((body[t + q]! * 16) >> 8, (body[t + q]! * 16) & 0xff);
      }
      parts.push(
        Uint8Array.from([0xff, 0xdb, (tables.length + 2) >> 8, (tables.length + 2) & 0xff, ...tables]),
      );
    } else if (marker === 0xc0) {
      parts.push(Uint8Array.from([0xff, 0xc1, jpeg8[i + 2]!, jpeg8[i + 3]!, 12]), body.subarray(1));
    } else {
      parts.push(jpeg8.subarray(i, i + 2 + len));
    }
    if (marker === 0xda) {
      parts.push(jpeg8.subarray(i + 2 + len)); // the scan and EOI
      break;
    }
    i += 2 + len;
  }
  return concat(parts);
}
