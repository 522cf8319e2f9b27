/** Data types shared by the decoders, validation and preprocessing. */

/** An 8-bit image in row-major, channel-interleaved order (grey: 1 channel; colour: RGB). */
export interface Raster {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

export type ImageFormat = 'png' | 'jpeg' | 'dicom';

/** What a file says about itself; DICOM fields are absent for PNG/JPEG. */
export interface ImageMetadata {
  file: string;
  format: ImageFormat;
  width: number;
  height: number;
  /** Bits per sample as stored (PNG/JPEG: 8 or 16; DICOM: BitsStored). */
  bitDepth: number;
  /** Samples per pixel as stored (1 grey, 3 colour; PNG alpha counts). */
  channels: number;
  modality?: string;
  viewPosition?: string;
  /** DICOM ViewCodeSequence code meaning (e.g. "postero-anterior", "lateral"), used when ViewPosition is empty. */
  viewCode?: string;
  bodyPartExamined?: string;
  photometricInterpretation?: string;
  transferSyntax?: string;
  /** Human name of the transfer syntax, e.g. "JPEG 2000 Lossless". */
  transferSyntaxName?: string;
  sopClassUid?: string;
  numberOfFrames?: number;
  /** DICOM only: whether the dataset has a Pixel Data element at all. */
  hasPixelData?: boolean;
  /** DICOM only, after loading: how stored values became 8-bit grey, e.g. "window 2048/4096 LINEAR". */
  rendering?: string;
}

/** The validation outcome: is this a frontal chest radiograph the model was trained on? */
export interface Verdict {
  /**
   * `frontal`: a chest radiograph that is (or may be) frontal; `lateral`: a lateral view (the model saw none in
   * training; usable only with an override); `refused`: clearly not a chest radiograph.
   */
  status: 'frontal' | 'lateral' | 'refused';
  /** Why: one line per finding, for people. */
  reasons: string[];
  /** True when the DICOM header gives no view position (PNG/JPEG never do), so frontal is assumed. */
  viewUnknown: boolean;
}

/**
 * How a DICOM's stored values become 8-bit grey (steps in order; see src/image/README.md).
 * The defaults follow the MIMIC-CXR-JPG conversion the training images went through.
 */
export interface DicomRenderOptions {
  /**
   * `auto` (default): the VOI window (centre/width) when present, else the VOI LUT sequence, else the
   * min..max of the modality values. `window` / `lut`: insist on that step (falls back like auto when absent).
   * `minmax`: ignore the header's VOI and stretch min..max. `bits`: map the full BitsStored range linearly.
   */
  voi?: 'auto' | 'window' | 'lut' | 'minmax' | 'bits';
  /** Which of several windows in the header to use (default 0, the first). */
  windowIndex?: number;
  /** Invert MONOCHROME1 so that bone is bright (default true). */
  invertMonochrome1?: boolean;
  /** Histogram-equalise the 8-bit result (OpenCV equalizeHist semantics; default false, see README). */
  equalize?: boolean;
}

/** How 16-bit PNGs become 8-bit: `minmax` stretches the used range (default), `scale` divides by 257. */
export type SixteenBitMode = 'minmax' | 'scale';

export interface LoadOptions extends DicomRenderOptions {
  /** Accept a lateral view (default false: loadImage refuses it with `image.lateral`). */
  allowLateral?: boolean;
  /** Skip validation entirely: accept anything that decodes (default false). */
  allowNonChest?: boolean;
  sixteenBit?: SixteenBitMode;
}

export interface LoadedImage {
  raster: Raster;
  metadata: ImageMetadata;
  verdict: Verdict;
}

/** The model input: Float32 [1, 3, S, S] plus the 8-bit RGB crop it was made from. */
export interface Preprocessed {
  /** NCHW float32, length 3 * S * S. */
  pixels: Float32Array;
  shape: [1, 3, number, number];
  /** The S x S crop before normalisation, HWC RGB uint8 (length 3 * S * S). */
  crop: Uint8Array;
  size: number;
  /** Where the crop sat in the resized image. */
  resized: { width: number; height: number; top: number; left: number };
}
