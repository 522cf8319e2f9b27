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

/** 1 positive, 0 negative, -1 uncertain, null not mentioned. */
export type LabelValue = 1 | 0 | -1 | null;

export type Labels14 = Record<Observation, LabelValue>;

export const POSITIVE = 1;
export const NEGATIVE = 0;
export const UNCERTAIN = -1;
