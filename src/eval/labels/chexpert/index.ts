export { type Agreement, agreement, type ClassAgreement, f1Target, LABEL_CLASSES } from './agreement.js';
export { labelReport, labelReports } from './labeler.js';
export {
  CHEXPERT_OBSERVATIONS,
  type Labels14,
  type LabelValue,
  type Observation,
} from './observations.js';
export { cleanReport, splitSentences } from './text.js';
