export { aggregate, type ChexpromptAggregate, HEADLINE_METRICS } from './aggregate.js';
export {
  type CountRow,
  countRow,
  ERROR_TYPE_NAMES,
  ERROR_TYPES,
  type ErrorCounts,
  type ErrorType,
  MAX_COUNT_PER_TYPE,
  SIGNIFICANCE,
  type Significance,
  type TypeCounts,
} from './counts.js';
export {
  chexpromptJson,
  chexpromptPerReport,
  failureCounts,
  formatChexpromptTable,
  type RunFacts,
} from './format.js';
export {
  CHEXPROMPT_VERSION,
  type ChexpromptOptions,
  type ChexpromptReport,
  chexprompt,
  chexpromptMetricValues,
  chexpromptSignature,
  judgedPairs,
} from './metric.js';
export { type ParseResult, parseAnswer } from './parse.js';
export {
  ANSWER_FORMATS,
  type AnswerFormat,
  answerSchema,
  defaultTemplate,
  formatAnswer,
  formatInstructions,
  type PromptTemplate,
  parseTemplate,
  promptHash,
  renderPrompt,
} from './prompt.js';
export {
  DEFAULT_PARSE_RETRIES,
  DEFAULT_WORKERS,
  type FailureKind,
  type JudgedPair,
  REFUSALS_BEFORE_STOP,
  type ReportResult,
  type RunOptions,
  type RunOutput,
  type RunUsage,
  runChexprompt,
} from './run.js';
export { DEFAULT_EXAMPLES, DEFAULT_TEMPLATE, type PromptExample } from './template.js';
export { chexpromptWithJudge, type SpecRun, type SpecRunOptions } from './with-judge.js';
