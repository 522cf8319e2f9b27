/**
 * Stored DICOM values to an 8-bit grey raster, the way display software (and the MIMIC-CXR-JPG conversion
 * the training images came from) does it:
 *
 * 1. Modality LUT: value = stored * RescaleSlope + RescaleIntercept (PS3.3 C.11.1).
 * 2. VOI: the first window (WindowCenter/WindowWidth, with VOILUTFunction LINEAR, LINEAR_EXACT or SIGMOID,
 *    PS3.3 C.11.2.1.2); else the first VOI LUT Sequence item; else the min..max of the values. Output 0..255.
 * 3. MONOCHROME1 is inverted (255 - v) so that bone is bright, as in MONOCHROME2.
 * 4. Optionally, histogram equalisation (OpenCV equalizeHist), reported for MIMIC-CXR-JPG but unverified.
 *
 * Steps 1-3 are folded into one lookup table over the stored range, so a 3000x2500 image costs one pass.
 */
import type dicomParser from 'dicom-parser';
import { inputError } from '../errors.js';
import type { StoredFrame } from './dicom-decode.js';
import { type ParsedDicom, TAG } from './dicom-parse.js';
import type { DicomRenderOptions, Raster } from './types.js';

const OUT_MAX = 255;

/** A VOI transform from modality values to [0, 1]. */
type Voi = (x: number) => number;

interface RenderChoice {
  voi: Voi;
  /** What was applied, for metadata and debugging: e.g. "window 2048/4096 LINEAR". */
  description: string;
}

export function renderFrame(
  parsed: ParsedDicom,
  frame: StoredFrame,
  options: DicomRenderOptions = {},
): { raster: Raster; voi: string } {
  if (frame.samples === 3) return { raster: renderColour(parsed, frame), voi: 'none (colour)' };
  const ds = parsed.dataSet;
  const slope = ds.floatString(TAG.rescaleSlope) || 1; // 0 or absent means no rescale
  const intercept = ds.floatString(TAG.rescaleIntercept) ?? 0;
  const { min, max } = range(frame.values);
  const choice = chooseVoi(parsed, options, min * slope + intercept, max * slope + intercept);
  const invert = (options.invertMonochrome1 ?? true) && frame.photometric === 'MONOCHROME1';
  // One table entry per stored value in [min, max].
  const table = new Uint8Array(max - min + 1);
  for (let s = min; s <= max; s++) {
    const y = Math.round(clamp01(choice.voi(s * slope + intercept)) * OUT_MAX);
    table[s - min] = invert ? OUT_MAX - y : y;
  }
  const values = frame.values;
  const data = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = table[values[i]! - min]!;
  if (options.equalize) equalizeHistogram(data);
  return {
    raster: { width: frame.width, height: frame.height, channels: 1, data },
    voi: choice.description + (invert ? ', inverted (MONOCHROME1)' : ''),
  };
}

function range(values: Int32Array): { min: number; max: number } {
  let min = values[0]!;
  let max = min;
  for (let i = 1; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    else if (v > max) max = v;
  }
  return { min, max };
}

const clamp01 = (v: number): number => (v < 0 ? 0 : Math.min(v, 1));

function chooseVoi(parsed: ParsedDicom, o: DicomRenderOptions, lo: number, hi: number): RenderChoice {
  const mode = o.voi ?? 'auto';
  const ds = parsed.dataSet;
  if (mode === 'bits') {
    const px = parsed.pixel!;
    const top = 2 ** px.bitsStored - 1;
    const base = px.pixelRepresentation === 1 ? -(2 ** (px.bitsStored - 1)) : 0;
    return { voi: (x) => (x - base) / top, description: `full ${px.bitsStored}-bit range` };
  }
  if (mode === 'auto' || mode === 'window' || mode === 'lut') {
    const win = mode !== 'lut' ? windowVoi(ds, o.windowIndex ?? 0) : undefined;
    const lut = win ? undefined : lutVoi(parsed);
    const chosen = win ?? lut ?? (mode === 'lut' ? windowVoi(ds, o.windowIndex ?? 0) : undefined);
    if (chosen) return chosen;
  }
  const span = hi - lo;
  return {
    voi: span > 0 ? (x) => (x - lo) / span : () => 0,
    description: `min..max ${lo}..${hi}`,
  };
}

/** Window centre/width (PS3.3 C.11.2.1.2, C.11.2.1.3), or undefined when the header has none. */
function windowVoi(ds: dicomParser.DataSet, index: number): RenderChoice | undefined {
  const c = ds.floatString(TAG.windowCenter, index);
  const w = ds.floatString(TAG.windowWidth, index);
  if (c === undefined || w === undefined || !Number.isFinite(c) || !Number.isFinite(w)) return undefined;
  const fn = ds.string(TAG.voiLutFunction)?.trim().toUpperCase() || 'LINEAR';
  const description = `window ${c}/${w} ${fn}`;
  if (fn === 'SIGMOID') return { voi: (x) => 1 / (1 + Math.exp((-4 * (x - c)) / w)), description };
  if (fn === 'LINEAR_EXACT') {
    if (w <= 0) return undefined;
    return { voi: (x) => (x - (c - w / 2)) / w, description };
  }
  if (w < 1) return undefined; // LINEAR requires width >= 1
  if (w === 1) return { voi: (x) => (x > c - 0.5 ? 1 : 0), description };
  return { voi: (x) => (x - (c - 0.5)) / (w - 1) + 0.5, description };
}

/** The first item of the VOI LUT Sequence (PS3.3 C.11.2.1.1), or undefined when absent or unusable. */
function lutVoi(parsed: ParsedDicom): RenderChoice | undefined {
  const item = parsed.dataSet.elements[TAG.voiLutSequence]?.items?.[0]?.dataSet;
  if (!item) return undefined;
  const desc = item.elements[TAG.lutDescriptor];
  const dataEl = item.elements[TAG.lutData];
  if (!desc || !dataEl || desc.length < 6) return undefined;
  const entries = item.uint16(TAG.lutDescriptor, 0) || 65536; // 0 means 2^16
  // The first mapped value is US or SS depending on the pixel representation.
  const first =
    parsed.pixel?.pixelRepresentation === 1
      ? item.int16(TAG.lutDescriptor, 1)!
      : item.uint16(TAG.lutDescriptor, 1)!;
  const bits = item.uint16(TAG.lutDescriptor, 2) ?? 16;
  const wide = dataEl.length >= entries * 2; // 16-bit words even when the descriptor says 8 (a common error)
  const n = Math.min(entries, wide ? dataEl.length >> 1 : dataEl.length);
  if (n < 1) return undefined;
  const lut = new Float64Array(n);
  let top = 0;
  for (let i = 0; i < n; i++) {
    lut[i] = wide ? item.uint16(TAG.lutData, i)! : item.byteArray[dataEl.dataOffset + i]!;
    if (lut[i]! > top) top = lut[i]!;
  }
  const scale = Math.max(2 ** Math.min(bits, 16) - 1, top) || 1;
  return {
    voi: (x) => lut[Math.min(n - 1, Math.max(0, Math.round(x) - first))]! / scale,
    description: `VOI LUT (${n} entries from ${first})`,
  };
}

/** OpenCV equalizeHist: lut[v] = round(255 * (cdf(v) - cdf(vmin)) / (N - cdf(vmin))). In place. */
export function equalizeHistogram(data: Uint8Array): void {
  const hist = new Float64Array(256);
  for (const v of data) hist[v]!++;
  let lo = 0;
  while (lo < 255 && hist[lo] === 0) lo++;
  const total = data.length;
  if (hist[lo] === total) return; // one grey level: nothing to spread
  const scale = OUT_MAX / (total - hist[lo]!);
  const lut = new Uint8Array(256);
  let sum = 0;
  for (let v = lo + 1; v < 256; v++) {
    sum += hist[v]!;
    lut[v] = Math.min(OUT_MAX, Math.round(sum * scale));
  }
  for (let i = 0; i < data.length; i++) data[i] = lut[data[i]!]!;
}

/** 8-bit RGB, or YBR_FULL converted to RGB (PS3.3 C.7.6.3.1.2). Colour CXRs are rare; no VOI applies. */
function renderColour(parsed: ParsedDicom, frame: StoredFrame): Raster {
  const pi = frame.photometric;
  if (pi !== 'RGB' && pi !== 'YBR_FULL')
    throw inputError('dicom.unsupported', 'unsupported colour photometric interpretation', {
      file: parsed.file,
      field: 'PhotometricInterpretation',
      expected: 'MONOCHROME1, MONOCHROME2, RGB or YBR_FULL',
      found: pi,
    });
  const v = frame.values;
  const data = new Uint8Array(v.length);
  const byte = (x: number) => (x < 0 ? 0 : x > 255 ? 255 : Math.round(x));
  for (let i = 0; i < v.length; i += 3) {
    if (pi === 'RGB') {
      data[i] = byte(v[i]!);
      data[i + 1] = byte(v[i + 1]!);
      data[i + 2] = byte(v[i + 2]!);
    } else {
      const y = v[i]!;
      const cb = v[i + 1]! - 128;
      const cr = v[i + 2]! - 128;
      data[i] = byte(y + 1.402 * cr);
      data[i + 1] = byte(y - 0.344136 * cb - 0.714136 * cr);
      data[i + 2] = byte(y + 1.772 * cb);
    }
  }
  return { width: frame.width, height: frame.height, channels: 3, data };
}
