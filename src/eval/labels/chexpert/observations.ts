/** The 14 CheXpert observations, in the labeler's output order (SPEC.md §5). */
export const CHEXPERT_OBSERVATIONS = [
  'No Finding',
  'Enlarged Cardiomediastinum',
  'Cardiomegaly',
  'Lung Lesion',
  'Lung Opacity',
  'Edema',
  'Consolidation',
  'Pneumonia',
  'Atelectasis',
  'Pneumothorax',
  'Pleural Effusion',
  'Pleural Other',
  'Fracture',
  'Support Devices',
] as const;

export type Observation = (typeof CHEXPERT_OBSERVATIONS)[number];

/**
 * The same 14 in CheXbert's head order, the column order of LLaVA-Rad's label F1 (its macro mean sums in this
 * order). Typed against CHEXPERT_OBSERVATIONS, so a name can only be one of those.
 */
export const F1_LABEL_ORDER = [
  'Enlarged Cardiomediastinum',
  'Cardiomegaly',
  'Lung Opacity',
  'Lung Lesion',
  'Edema',
  'Consolidation',
  'Pneumonia',
  'Atelectasis',
  'Pneumothorax',
  'Pleural Effusion',
  'Pleural Other',
  'Fracture',
  'Support Devices',
  'No Finding',
] as const satisfies readonly Observation[];

/** The 5 conditions of LLaVA-Rad's "5" label F1 columns (SPEC.md §5). */
export const F1_CONDITIONS_5 = [
  'Cardiomegaly',
  'Edema',
  'Consolidation',
  'Atelectasis',
  'Pleural Effusion',
] as const satisfies readonly Observation[];

/** 1 positive, 0 negative, -1 uncertain, null not mentioned. */
export type LabelValue = 1 | 0 | -1 | null;

export type Labels14 = Record<Observation, LabelValue>;

export const POSITIVE = 1;
export const NEGATIVE = 0;
export const UNCERTAIN = -1;
