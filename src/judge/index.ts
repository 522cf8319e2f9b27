export { AnswerCache, type CacheKeyParts, type CacheStats, cacheKey } from './cache.js';
export { DEFAULT_GGUF_CONTEXT, type GgufJudgeOptions, ggufJudge } from './gguf.js';
export { GGUF_ALIGNMENT, type GgufTensor, type GgufValue, gguf, writeGguf } from './gguf-writer.js';
export {
  DEFAULT_AZURE_API_VERSION,
  type LimitField,
  OPENAI_BASE_URL,
  type OpenAIJudgeOptions,
  openAIJudge,
  retryAfter,
} from './openai.js';
export {
  DEFAULT_LIMITS,
  LimitedJudge,
  type LimitOptions,
  MAX_RETRY_AFTER_MS,
  type SchedulerStats,
} from './scheduler.js';
export {
  createJudge,
  type JudgeSettings,
  type JudgeSpec,
  judgeIdentity,
  OLLAMA_BASE_URL,
  parseJudgeSpec,
} from './spec.js';
export {
  type ChatMessage,
  DEFAULT_JUDGE_PARAMS,
  type JsonSchema,
  type Judge,
  type JudgeAnswer,
  JudgeFatalError,
  type JudgeParams,
  type JudgeRequest,
  JudgeRequestError,
  JudgeTransientError,
  judgeParams,
  type Pricing,
  type TokenUsage,
  type TransientReason,
} from './types.js';
