export * from './chexbert.js';
export { CHEXPERT_OBSERVATIONS, type Labels14, labelReport, labelReports } from './chexpert/index.js';
export {
  averagePrf,
  binarise,
  F1_CONDITIONS_5,
  F1_LABEL_ORDER,
  type F1Average,
  LABEL_CONVENTIONS,
  LABEL_F1_VERSION,
  type LabelConvention,
  type LabelRecord,
  type LabelSubset,
  labelF1Name,
  labelF1Scores,
  labelF1Signature,
  llavaRadF1Name,
  type PrfRow,
  perLabelReport,
} from './f1.js';
