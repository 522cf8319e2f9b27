export {
  type Agreement,
  agreement,
  type ClassAgreement,
  f1Target,
  formatAgreement,
  LABEL_CLASSES,
} from './agreement.js';
export { labelReport, labelReports } from './labeler.js';
export {
  CHEXPERT_OBSERVATIONS,
  F1_CONDITIONS_5,
  F1_LABEL_ORDER,
  type Labels14,
  type LabelValue,
  type Observation,
} from './observations.js';
export {
  CSV_HEADER,
  csvField,
  csvRow,
  jsonlRow,
  type ReportFormat,
  type ReportRow,
  readReports,
  reportFormatOf,
  TEXT_FIELDS,
} from './reports.js';
export { cleanReport, splitSentences } from './text.js';
