/**
 * DICOM Part 10 reading with dicom-parser: the file meta header, the dataset in whichever byte order and VR
 * encoding its transfer syntax says (inflating Deflated Explicit VR ourselves, with an output cap), the image
 * pixel module, and the bytes of the first frame. Decoding those bytes is dicom-decode.ts's job.
 */
import { inflateRawSync } from 'node:zlib';
import dicomParser from 'dicom-parser';
import { inputError, isCxrError } from '../errors.js';
import { MAX_INFLATED_BYTES } from './limits.js';
import { type TransferSyntaxInfo, transferSyntax, transferSyntaxName } from './transfer-syntax.js';
import type { ImageMetadata } from './types.js';

/** DICOM tags used here, as dicom-parser keys. */
export const TAG = {
  transferSyntax: 'x00020010',
  sopClassUid: 'x00080016',
  modality: 'x00080060',
  bodyPartExamined: 'x00180015',
  viewPosition: 'x00185101',
  viewCodeSequence: 'x00540220',
  codeMeaning: 'x00080104',
  samplesPerPixel: 'x00280002',
  photometric: 'x00280004',
  planarConfiguration: 'x00280006',
  numberOfFrames: 'x00280008',
  rows: 'x00280010',
  columns: 'x00280011',
  bitsAllocated: 'x00280100',
  bitsStored: 'x00280101',
  pixelRepresentation: 'x00280103',
  windowCenter: 'x00281050',
  windowWidth: 'x00281051',
  rescaleIntercept: 'x00281052',
  rescaleSlope: 'x00281053',
  voiLutFunction: 'x00281056',
  voiLutSequence: 'x00283010',
  lutDescriptor: 'x00283002',
  lutData: 'x00283006',
  pixelData: 'x7fe00010',
  floatPixelData: 'x7fe00008',
  doubleFloatPixelData: 'x7fe00009',
} as const;

/** The Image Pixel module, as needed to decode and render frame 0. */
export interface PixelModule {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: number;
  planarConfiguration: number;
  photometric: string;
  frames: number;
}

export interface ParsedDicom {
  file: string;
  dataSet: dicomParser.DataSet;
  syntax: TransferSyntaxInfo | undefined;
  metadata: ImageMetadata;
  /** Absent when the dataset has no Pixel Data (e.g. a structured report). */
  pixel?: PixelModule;
}

function describe(e: unknown): string {
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object' && 'exception' in e)
    return describe((e as { exception: unknown }).exception);
  return e instanceof Error ? e.message : String(e);
}

function corrupt(file: string, what: string, cause?: unknown): Error {
  return inputError('dicom.corrupt', `unreadable DICOM: ${what}`, { file, cause });
}

type DataSetConstructor = new (
  parser: dicomParser.ByteArrayParser,
  bytes: Uint8Array,
  elements: Record<string, dicomParser.Element>,
) => dicomParser.DataSet;

function readDataSet(file: string, bytes: Uint8Array, syntax: TransferSyntaxInfo | undefined, start: number) {
  let body = bytes;
  let position = start;
  if (syntax?.deflated) {
    try {
      body = inflateRawSync(bytes.subarray(start), { maxOutputLength: MAX_INFLATED_BYTES });
    } catch (e) {
      throw corrupt(file, `the deflated dataset does not inflate (${describe(e)})`, e);
    }
    position = 0;
  }
  const parser = syntax?.bigEndian
    ? dicomParser.bigEndianByteArrayParser
    : dicomParser.littleEndianByteArrayParser;
  const stream = new dicomParser.ByteStream(parser, body, position);
  // dicom-parser exports its DataSet class at run time but types it as an interface only.
  const DataSetClass = (dicomParser as unknown as { DataSet: DataSetConstructor }).DataSet;
  const dataSet = new DataSetClass(parser, body, {});
  // Implicit VR only for the one implicit syntax; unknown syntaxes are refused later, parse them explicit.
  if (syntax?.uid === '1.2.840.10008.1.2')
    dicomParser.parseDicomDataSetImplicit(dataSet, stream, body.length);
  else dicomParser.parseDicomDataSetExplicit(dataSet, stream, body.length);
  return dataSet;
}

const text = (ds: dicomParser.DataSet, tag: string): string | undefined => {
  const v = ds.string(tag)?.trim();
  return v ? v : undefined;
};

/** Parse a Part 10 file: metadata always; pixel module when there is pixel data. No pixel is decoded. */
export function parseDicomFile(file: string, bytes: Uint8Array): ParsedDicom {
  let meta: dicomParser.DataSet;
  let dataSet: dicomParser.DataSet;
  let uid: string;
  try {
    meta = dicomParser.readPart10Header(bytes);
    uid = meta.string(TAG.transferSyntax)?.trim() ?? '';
    dataSet = readDataSet(file, bytes, transferSyntax(uid), (meta as { position?: number }).position ?? 132);
  } catch (e) {
    if (isCxrError(e)) throw e;
    const message = describe(e);
    if (/overrun|past end|beyond the end/i.test(message))
      throw inputError('dicom.truncated', `the file ends in the middle of the dataset (${message})`, {
        file,
        cause: e,
      });
    throw corrupt(file, message, e);
  }
  const syntax = transferSyntax(uid);
  const pixel = readPixelModule(file, dataSet);
  const metadata: ImageMetadata = {
    file,
    format: 'dicom',
    width: pixel?.columns ?? 0,
    height: pixel?.rows ?? 0,
    bitDepth: pixel?.bitsStored ?? 0,
    channels: pixel?.samplesPerPixel ?? 0,
    modality: text(dataSet, TAG.modality),
    viewPosition: text(dataSet, TAG.viewPosition),
    viewCode: viewCode(dataSet),
    bodyPartExamined: text(dataSet, TAG.bodyPartExamined),
    photometricInterpretation: pixel?.photometric,
    transferSyntax: uid,
    transferSyntaxName: transferSyntaxName(uid),
    sopClassUid: text(dataSet, TAG.sopClassUid) ?? text(meta, 'x00020002'),
    numberOfFrames: pixel?.frames,
    hasPixelData: pixel !== undefined,
  };
  return { file, dataSet, syntax, metadata, pixel };
}

function viewCode(ds: dicomParser.DataSet): string | undefined {
  const item = ds.elements[TAG.viewCodeSequence]?.items?.[0]?.dataSet;
  return item ? text(item, TAG.codeMeaning) : undefined;
}

function readPixelModule(file: string, ds: dicomParser.DataSet): PixelModule | undefined {
  if (!ds.elements[TAG.pixelData]) return undefined;
  const need = (tag: string, name: string): number => {
    const v = ds.uint16(tag);
    if (v === undefined) throw corrupt(file, `${name} (${tag.slice(1)}) is missing`);
    return v;
  };
  const rows = need(TAG.rows, 'Rows');
  const columns = need(TAG.columns, 'Columns');
  const bitsAllocated = need(TAG.bitsAllocated, 'BitsAllocated');
  const frames = ds.intString(TAG.numberOfFrames) ?? 1;
  return {
    rows,
    columns,
    samplesPerPixel: ds.uint16(TAG.samplesPerPixel) ?? 1,
    bitsAllocated,
    bitsStored: ds.uint16(TAG.bitsStored) ?? bitsAllocated,
    pixelRepresentation: ds.uint16(TAG.pixelRepresentation) ?? 0,
    planarConfiguration: ds.uint16(TAG.planarConfiguration) ?? 0,
    photometric: text(ds, TAG.photometric) ?? 'MONOCHROME2',
    frames: Number.isFinite(frames) && frames > 0 ? frames : 1,
  };
}

/** The encoded (or native) bytes of frame 0, bounds-checked against the file. */
export function firstFrameBytes(parsed: ParsedDicom, frameBytes: number): Uint8Array {
  const { dataSet: ds, file } = parsed;
  const el = ds.elements[TAG.pixelData]!;
  const available = ds.byteArray.length - el.dataOffset;
  if (!el.encapsulatedPixelData) {
    if (el.length < frameBytes || available < frameBytes)
      throw inputError('dicom.truncated', 'pixel data is shorter than Rows x Columns x samples needs', {
        file,
        field: 'PixelData (7FE0,0010)',
        expected: `${frameBytes} bytes`,
        found: `${Math.max(0, Math.min(el.length, available))} bytes`,
      });
    return ds.byteArray.subarray(el.dataOffset, el.dataOffset + frameBytes);
  }
  const fragments = el.fragments ?? [];
  if (fragments.length === 0)
    throw inputError('dicom.truncated', 'encapsulated pixel data holds no fragments', {
      file,
      field: 'PixelData',
    });
  for (const f of fragments) {
    if (f.position + f.length > ds.byteArray.length)
      throw inputError('dicom.truncated', 'a pixel data fragment runs past the end of the file', {
        file,
        field: 'PixelData',
      });
  }
  try {
    if ((parsed.pixel?.frames ?? 1) === 1)
      return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, fragments.length) as Uint8Array;
    const table = el.basicOffsetTable?.length
      ? el.basicOffsetTable
      : dicomParser.createJPEGBasicOffsetTable(ds, el);
    return dicomParser.readEncapsulatedImageFrame(ds, el, 0, table) as Uint8Array;
  } catch (e) {
    throw corrupt(file, `cannot assemble the first frame (${describe(e)})`, e);
  }
}
