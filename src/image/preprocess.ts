/**
 * The open_clip eval transform LLaVA-Rad uses in training and inference (SPEC.md §2):
 * RGB -> Resize(shorter side = S, PIL bicubic) -> CenterCrop(S) -> ToTensor -> Normalize(OpenAI CLIP mean/std).
 */
import { inputError } from '../errors.js';
import { resizeBicubic } from './resample.js';
import type { Preprocessed, Raster } from './types.js';

/** The BiomedCLIP-CXR-518 input size. */
export const LLAVA_RAD_IMAGE_SIZE = 518;
/** Largest output side accepted: far above any CLIP input, small enough that the crop stays in memory. */
export const MAX_IMAGE_SIZE = 4096;
/** OpenAI CLIP normalisation (open_clip OPENAI_DATASET_MEAN / _STD). */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

export interface PreprocessOptions {
  /** Output side S (default 518; the tiny test checkpoints use 56 or 70). */
  imageSize?: number;
}

/** Python's round(): to nearest, ties to even (torchvision's CenterCrop uses it for the offsets). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * torchvision Resize(int): the shorter side becomes S, the longer `int(S * long / short)` (float division,
 * truncated), evaluated in the same order as Python so that the doubles agree.
 */
export function resizedSize(width: number, height: number, size: number): { width: number; height: number } {
  if (width <= height) return { width: size, height: Math.floor((size * height) / width) };
  return { width: Math.floor((size * width) / height), height: size };
}

/**
 * float32 value of ToTensor + Normalize for every byte, per channel: [3 * 256].
 * Each step rounds to float32 as torch does: (v / 255 - mean) / std.
 */
export function normalizeTable(): Float32Array {
  const lut = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    const mean = Math.fround(CLIP_MEAN[c]!);
    const std = Math.fround(CLIP_STD[c]!);
    for (let v = 0; v < 256; v++) {
      lut[c * 256 + v] = Math.fround(Math.fround(Math.fround(v / 255) - mean) / std);
    }
  }
  return lut;
}

let cachedTable: Float32Array | undefined;

/** `field`: how the caller's user names the size (the CLI passes --image-size). */
export function checkSize(size: number, field = 'imageSize'): void {
  if (!Number.isInteger(size) || size < 1 || size > MAX_IMAGE_SIZE)
    throw inputError('image.bad_size', `image size must be an integer from 1 to ${MAX_IMAGE_SIZE}`, {
      field,
      found: String(size),
    });
}

/** Resize + centre-crop to an S x S RGB crop (HWC uint8), exactly as PIL + torchvision would. */
export function centreCrop(raster: Raster, size: number): Omit<Preprocessed, 'pixels' | 'shape'> {
  checkSize(size);
  const target = resizedSize(raster.width, raster.height, size);
  const resized = resizeBicubic(raster, target.width, target.height);
  const top = roundHalfEven((target.height - size) / 2);
  const left = roundHalfEven((target.width - size) / 2);
  const crop = new Uint8Array(size * size * 3);
  const ch = resized.channels;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const src = ((y + top) * resized.width + (x + left)) * ch;
      const dst = (y * size + x) * 3;
      // Grey is replicated to three channels (PIL convert('RGB')).
      crop[dst] = resized.data[src]!;
      crop[dst + 1] = resized.data[src + (ch === 3 ? 1 : 0)]!;
      crop[dst + 2] = resized.data[src + (ch === 3 ? 2 : 0)]!;
    }
  }
  return { crop, size, resized: { ...target, top, left } };
}

/** The model input for an 8-bit raster: Float32 [1, 3, S, S] (NCHW) and the 8-bit crop. */
export function preprocessImage(raster: Raster, options: PreprocessOptions = {}): Preprocessed {
  const size = options.imageSize ?? LLAVA_RAD_IMAGE_SIZE;
  const cropped = centreCrop(raster, size);
  cachedTable ??= normalizeTable();
  const table = cachedTable;
  const plane = size * size;
  const pixels = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) pixels[c * plane + i] = table[c * 256 + cropped.crop[i * 3 + c]!]!;
  }
  return { ...cropped, pixels, shape: [1, 3, size, size] };
}
