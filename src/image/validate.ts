/**
 * Is this a frontal chest radiograph, the only thing LLaVA-Rad was trained on (MIMIC-CXR AP/PA views)?
 * Decided from the header alone, before any pixel is decoded. Refusals can be overridden by the caller.
 */
import type { ImageMetadata, Verdict } from './types.js';

/** Projection-radiograph modalities (and generic captures that often carry them). */
const RADIOGRAPH_MODALITIES = new Set(['CR', 'DX', 'DR', 'RG', 'OT', 'SC', 'XC']);
/** Modalities that are clearly not a chest radiograph, with a word on what they are. */
const OTHER_MODALITIES: Record<string, string> = {
  CT: 'a CT slice',
  MR: 'an MR image',
  PT: 'a PET image',
  NM: 'a nuclear medicine image',
  US: 'an ultrasound image',
  MG: 'a mammogram',
  XA: 'an angiography run',
  RF: 'a fluoroscopy run',
  SR: 'a structured report',
  KO: 'a key object selection',
  PR: 'a presentation state',
  SEG: 'a segmentation',
  DOC: 'a document',
  ECG: 'an ECG',
  IO: 'an intra-oral radiograph',
  PX: 'a panoramic dental radiograph',
};
/** Structured-report SOP classes (1.2.840.10008.5.1.4.1.1.88.x). */
const SR_SOP_PREFIX = '1.2.840.10008.5.1.4.1.1.88.';
/** BodyPartExamined values (or parts of them) that mean the chest. */
const CHEST_BODY_PART = /CHEST|THORAX|LUNG|TORSO|\bRIB|PORT\b|^CXR$/;
/** ViewPosition values of a lateral view; decubitus (LLD/RLD) and AP/PA are frontal. */
const LATERAL_VIEW = /^(LL|RL|LAT|LATERAL|LLAT|RLAT|.*\bLATERAL\b.*)$/;

export function validate(meta: ImageMetadata): Verdict {
  const refusals: string[] = [];
  const notes: string[] = [];
  if (meta.format === 'dicom') dicomChecks(meta, refusals, notes);
  else {
    notes.push(
      `${meta.format.toUpperCase()} carries no view metadata: assumed to be a frontal chest radiograph`,
    );
    if (meta.channels >= 3)
      notes.push('stored as RGB; chest radiographs are grey (colour is kept as it is, like PIL)');
  }
  // ViewPosition first; the coded view (ViewCodeSequence) when it is empty.
  const view = (meta.viewPosition || meta.viewCode)?.toUpperCase();
  const viewUnknown = !view;
  if (refusals.length > 0) return { status: 'refused', reasons: [...refusals, ...notes], viewUnknown };
  if (view && LATERAL_VIEW.test(view))
    return {
      status: 'lateral',
      reasons: [
        `${meta.viewPosition ? `ViewPosition ${meta.viewPosition}` : `view code "${meta.viewCode}"`}: a lateral view; the model was trained on frontal (AP/PA) views only`,
        ...notes,
      ],
      viewUnknown,
    };
  if (meta.format === 'dicom' && viewUnknown) notes.push('ViewPosition is not stated: assumed frontal');
  return { status: 'frontal', reasons: notes, viewUnknown };
}

function dicomChecks(meta: ImageMetadata, refusals: string[], notes: string[]): void {
  const modality = meta.modality?.toUpperCase();
  if (meta.sopClassUid?.startsWith(SR_SOP_PREFIX)) refusals.push('a structured report (SR), not an image');
  else if (modality && OTHER_MODALITIES[modality])
    refusals.push(`Modality ${modality}: ${OTHER_MODALITIES[modality]}, not a chest radiograph`);
  else if (modality && !RADIOGRAPH_MODALITIES.has(modality))
    refusals.push(`Modality ${modality} is not a projection radiograph (expected CR or DX)`);
  else if (!modality) notes.push('Modality is not stated');
  if (meta.hasPixelData === false) refusals.push('no pixel data');
  if ((meta.numberOfFrames ?? 1) > 1)
    refusals.push(`${meta.numberOfFrames} frames: a multi-frame series or cine, not a single radiograph`);
  const part = meta.bodyPartExamined?.toUpperCase();
  if (part && !CHEST_BODY_PART.test(part))
    refusals.push(`BodyPartExamined ${meta.bodyPartExamined}: not the chest`);
  else if (!part) notes.push('BodyPartExamined is not stated');
}
