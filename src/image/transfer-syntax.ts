/** The DICOM transfer syntaxes cxr reads, and how each one's pixel data is decoded. */

export type PixelEncoding =
  | 'native' // uncompressed, in the byte order of the dataset
  | 'rle'
  | 'jpeg' // any JPEG process (baseline, extended 12-bit, lossless)
  | 'jpegls'
  | 'j2k'
  | 'htj2k'
  | 'jpegxl';

export interface TransferSyntaxInfo {
  uid: string;
  name: string;
  encoding: PixelEncoding;
  bigEndian?: boolean;
  deflated?: boolean;
}

const LIST: TransferSyntaxInfo[] = [
  { uid: '1.2.840.10008.1.2', name: 'Implicit VR Little Endian', encoding: 'native' },
  { uid: '1.2.840.10008.1.2.1', name: 'Explicit VR Little Endian', encoding: 'native' },
  { uid: '1.2.840.10008.1.2.2', name: 'Explicit VR Big Endian', encoding: 'native', bigEndian: true },
  {
    uid: '1.2.840.10008.1.2.1.99',
    name: 'Deflated Explicit VR Little Endian',
    encoding: 'native',
    deflated: true,
  },
  { uid: '1.2.840.10008.1.2.5', name: 'RLE Lossless', encoding: 'rle' },
  { uid: '1.2.840.10008.1.2.4.50', name: 'JPEG Baseline (Process 1)', encoding: 'jpeg' },
  { uid: '1.2.840.10008.1.2.4.51', name: 'JPEG Extended (Process 2 & 4)', encoding: 'jpeg' },
  { uid: '1.2.840.10008.1.2.4.57', name: 'JPEG Lossless (Process 14)', encoding: 'jpeg' },
  {
    uid: '1.2.840.10008.1.2.4.70',
    name: 'JPEG Lossless SV1 (Process 14, Selection Value 1)',
    encoding: 'jpeg',
  },
  { uid: '1.2.840.10008.1.2.4.80', name: 'JPEG-LS Lossless', encoding: 'jpegls' },
  { uid: '1.2.840.10008.1.2.4.81', name: 'JPEG-LS Near-Lossless', encoding: 'jpegls' },
  { uid: '1.2.840.10008.1.2.4.90', name: 'JPEG 2000 Lossless', encoding: 'j2k' },
  { uid: '1.2.840.10008.1.2.4.91', name: 'JPEG 2000', encoding: 'j2k' },
  { uid: '1.2.840.10008.1.2.4.201', name: 'HTJ2K Lossless', encoding: 'htj2k' },
  { uid: '1.2.840.10008.1.2.4.202', name: 'HTJ2K Lossless RPCL', encoding: 'htj2k' },
  { uid: '1.2.840.10008.1.2.4.203', name: 'HTJ2K', encoding: 'htj2k' },
  { uid: '1.2.840.10008.1.2.4.110', name: 'JPEG XL Lossless', encoding: 'jpegxl' },
  { uid: '1.2.840.10008.1.2.4.112', name: 'JPEG XL', encoding: 'jpegxl' },
];

const BY_UID = new Map(LIST.map((t) => [t.uid, t]));

/** Names of syntaxes we recognise but cannot read, so the error can say what the file is. */
const KNOWN_UNSUPPORTED: Record<string, string> = {
  '1.2.840.10008.1.2.4.100': 'MPEG2 Main Profile (video)',
  '1.2.840.10008.1.2.4.101': 'MPEG2 High Profile (video)',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 AVC/H.264 (video)',
  '1.2.840.10008.1.2.4.103': 'MPEG-4 AVC/H.264 BD (video)',
  '1.2.840.10008.1.2.4.107': 'HEVC/H.265 (video)',
  '1.2.840.10008.1.2.4.94': 'JPIP Referenced',
  '1.2.840.10008.1.2.4.95': 'JPIP Referenced Deflate',
  '1.2.840.10008.1.2.4.111': 'JPEG XL JPEG Recompression',
};

export function transferSyntax(uid: string): TransferSyntaxInfo | undefined {
  return BY_UID.get(uid);
}

export function transferSyntaxName(uid: string): string {
  return BY_UID.get(uid)?.name ?? KNOWN_UNSUPPORTED[uid] ?? 'unknown';
}

export const SUPPORTED_TRANSFER_SYNTAXES: readonly TransferSyntaxInfo[] = LIST;
