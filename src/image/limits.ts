/** Limits that keep a hostile or broken file from exhausting memory (checked before any pixel is allocated). */

import { inputError } from '../errors.js';

/** Longest side accepted. The largest detector panels are about 4,300 px; scans of film a little more. */
export const MAX_SIDE = 16_384;
/** Most pixels accepted in one image (a 100k x 100k "decompression bomb" is 10^10). */
export const MAX_PIXELS = 120_000_000;
/** Largest inflated dataset accepted from a Deflated Explicit VR DICOM. */
export const MAX_INFLATED_BYTES = 1 << 30;

export function checkDimensions(file: string, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw inputError('image.bad_dimensions', 'image has zero or invalid dimensions', {
      file,
      expected: 'width and height of at least 1',
      found: `${width}x${height}`,
    });
  if (width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS)
    throw inputError('image.too_large', 'image dimensions are implausibly large (refused before decoding)', {
      file,
      expected: `at most ${MAX_SIDE} px a side and ${MAX_PIXELS} pixels`,
      found: `${width}x${height}`,
    });
}
