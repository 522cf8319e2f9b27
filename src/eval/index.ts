export { type CompareOptions, type Comparison, compareSystems, type SystemResult } from './compare.js';
export {
  type ComparisonDocument,
  comparisonCsv,
  comparisonHtml,
  comparisonJson,
  comparisonTable,
} from './compare-format.js';
export {
  type EvalOptions,
  type EvalResult,
  estimates,
  evaluate,
  type MetricValue,
  scoreAll,
  toMetricValues,
} from './evaluate.js';
export {
  alignColumns,
  csvField,
  type EvalDocument,
  formatNumber,
  formatTable,
  perReportLines,
  toCsv,
  toJson,
} from './format.js';
export { escapeHtml, type HtmlReport, renderHtml } from './html.js';
export { DEFAULT_METRICS, METRICS, parseMetricList, RULE_LABELER } from './metrics.js';
export {
  DEFAULT_FIELDS,
  DEFAULT_MAX_CHARS,
  type PairInputOptions,
  type Pairs,
  readPairs,
  readSystems,
  type Systems,
  type SystemsInputOptions,
} from './pairs.js';
export { type FileFormat, formatOf, readRecords, replaceNonFinite } from './records.js';
