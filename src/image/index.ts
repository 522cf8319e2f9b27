/**
 * Image input for cxr: PNG/JPEG/DICOM -> validated 8-bit raster -> the LLaVA-Rad model input.
 *
 *   const { raster, metadata, verdict } = await loadImage(path, { allowLateral: false });
 *   const { pixels, shape, crop } = preprocessImage(raster, { imageSize: 518 }); // Float32 [1, 3, S, S]
 */
export { MAX_PIXELS, MAX_SIDE } from './limits.js';
export { enforceVerdict, inspectImage, loadImage, sniffFormat } from './load.js';
export {
  CLIP_MEAN,
  CLIP_STD,
  centreCrop,
  checkSize,
  LLAVA_RAD_IMAGE_SIZE,
  normalizeTable,
  type PreprocessOptions,
  preprocessImage,
  resizedSize,
  roundHalfEven,
} from './preprocess.js';
export { resizeBicubic } from './resample.js';
export { SUPPORTED_TRANSFER_SYNTAXES, transferSyntaxName } from './transfer-syntax.js';
export type {
  DicomRenderOptions,
  ImageFormat,
  ImageMetadata,
  LoadedImage,
  LoadOptions,
  Preprocessed,
  Raster,
  SixteenBitMode,
  Verdict,
} from './types.js';
export { validate } from './validate.js';
