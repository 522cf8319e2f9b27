/**
 * PIL's bicubic resize for 8-bit images (Pillow 9.x `Image.resize(size, BICUBIC)`, libImaging/Resample.c),
 * re-derived from the published algorithm so the bytes match what open_clip fed LLaVA-Rad in training:
 *
 * - a separable convolution, horizontal pass first, then vertical, each pass rounding and clipping to 8 bits;
 * - the cubic kernel with a = -0.5 and support 2, widened by the scale factor when downscaling (antialiasing);
 * - per output pixel, weights normalised to sum 1 in double precision, then converted to fixed point with
 *   22 fractional bits (round half away from zero), accumulated in integers with a +0.5 bias and shifted back.
 *
 * sharp/libvips' cubic kernels differ from this by a grey level here and there, which is why it is ported.
 */
import type { Raster } from './types.js';

/** Cubic convolution parameter of PIL's BICUBIC filter. */
const CUBIC_A = -0.5;
/** Half-width of the cubic kernel in input pixels at scale 1. */
const CUBIC_SUPPORT = 2;
/** Fractional bits of the fixed-point weights (PIL: 32 - 8 - 2). */
const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

function cubic(x: number): number {
  const t = Math.abs(x);
  if (t < 1) return ((CUBIC_A + 2) * t - (CUBIC_A + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * CUBIC_A;
  return 0;
}

/** Fixed-point weights of a 1-D resampling from `inSize` to `outSize` samples. */
interface Weights {
  /** Taps per output sample (array stride). */
  taps: number;
  /** First input index for each output sample. */
  start: Int32Array;
  /** Number of input samples used for each output sample. */
  count: Int32Array;
  /** outSize * taps fixed-point weights. */
  k: Int32Array;
}

function computeWeights(inSize: number, outSize: number): Weights {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = CUBIC_SUPPORT * filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const k = new Int32Array(outSize * taps);
  const w = new Float64Array(taps);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // PIL truncates toward zero after adding 0.5 (C `(int)`), then clamps to the image.
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      w[x] = cubic((x + xmin - center + 0.5) / filterScale);
      sum += w[x]!;
    }
    for (let x = 0; x < xmax; x++) {
      const v = sum !== 0 ? w[x]! / sum : w[x]!;
      // Round half away from zero, as `(int)(v * ONE +- 0.5)` does in C.
      k[xx * taps + x] = v < 0 ? Math.trunc(v * ONE - 0.5) : Math.trunc(v * ONE + 0.5);
    }
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { taps, start, count, k };
}

/** Fixed-point accumulator back to a byte: floor(acc / 2^22) (an arithmetic shift), clipped to [0, 255]. */
function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return v < 0 ? 0 : Math.min(v, 255);
}

/*
 * The accumulators stay within int32 (|sum| <= 255 * 1.5 * 2^22 < 2^31), so the loops use int32 arithmetic
 * (Math.imul, | 0): exact, and V8 keeps them off the floating-point path.
 */

function resampleHorizontal(src: Raster, rowFirst: number, rows: number, outWidth: number): Raster {
  const { channels: ch, width } = src;
  const { taps, start, count, k } = computeWeights(width, outWidth);
  const data = src.data;
  const out = new Uint8Array(outWidth * rows * ch);
  for (let y = 0; y < rows; y++) {
    const rowIn = (y + rowFirst) * width * ch;
    const rowOut = y * outWidth * ch;
    for (let xx = 0; xx < outWidth; xx++) {
      const base = xx * taps;
      const n = count[xx]!;
      for (let c = 0; c < ch; c++) {
        let p = rowIn + start[xx]! * ch + c;
        let acc = HALF;
        for (let x = 0; x < n; x++, p += ch) acc = (acc + Math.imul(data[p]!, k[base + x]!)) | 0;
        out[rowOut + xx * ch + c] = clip8(acc);
      }
    }
  }
  return { width: outWidth, height: rows, channels: ch, data: out };
}

function resampleVertical(src: Raster, wts: Weights, rowShift: number, outHeight: number): Raster {
  const { channels: ch, width } = src;
  const stride = width * ch;
  const data = src.data;
  const out = new Uint8Array(stride * outHeight);
  const acc = new Int32Array(stride);
  for (let yy = 0; yy < outHeight; yy++) {
    const base = yy * wts.taps;
    const ymin = wts.start[yy]! - rowShift;
    const n = wts.count[yy]!;
    acc.fill(HALF);
    // Row by row, so memory is read in order.
    for (let y = 0; y < n; y++) {
      const w = wts.k[base + y]!;
      const row = (y + ymin) * stride;
      for (let i = 0; i < stride; i++) acc[i] = (acc[i]! + Math.imul(data[row + i]!, w)) | 0;
    }
    const rowOut = yy * stride;
    for (let i = 0; i < stride; i++) out[rowOut + i] = clip8(acc[i]!);
  }
  return { width, height: outHeight, channels: ch, data: out };
}

/**
 * Resize an 8-bit raster with PIL's BICUBIC filter. Like PIL, the horizontal pass only processes the input
 * rows the vertical pass will read, and a dimension that keeps its size is not resampled at all.
 */
export function resizeBicubic(src: Raster, outWidth: number, outHeight: number): Raster {
  const needH = outWidth !== src.width;
  const needV = outHeight !== src.height;
  if (!needH && !needV) return src;
  const vert = computeWeights(src.height, outHeight);
  let img = src;
  let rowShift = 0;
  if (needH) {
    // Rows [first, last) of the input feed the vertical pass.
    const first = needV ? vert.start[0]! : 0;
    const last = needV ? vert.start[outHeight - 1]! + vert.count[outHeight - 1]! : src.height;
    img = resampleHorizontal(src, first, last - first, outWidth);
    rowShift = first;
  }
  return needV ? resampleVertical(img, vert, rowShift, outHeight) : img;
}
