/** The contract every LLM judge implements (OpenAI-compatible HTTP, local GGUF), and the errors it raises. */
import { CxrError } from '../errors.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A JSON schema the answer must follow; backends that can enforce one (a grammar, structured output) do. */
export type JsonSchema = Record<string, unknown>;

export interface JudgeRequest {
  messages: ChatMessage[];
  jsonSchema?: JsonSchema;
  /** Aborts the request (the scheduler uses it for per-request timeouts). */
  signal?: AbortSignal;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface JudgeAnswer {
  text: string;
  usage?: TokenUsage;
  /** Why generation stopped, as the backend says it (`stop`, `length`, `maxTokens`, ...). */
  finishReason?: string;
}

/** Sampling parameters; part of every cache key and of the metric's signature. */
export interface JudgeParams {
  temperature: number;
  maxTokens: number;
  seed?: number;
}

export interface Judge {
  /** Backend family: `openai`, `azure`, `http`, `gguf`. */
  readonly kind: string;
  /** Model, deployment or file the answers come from (never a key). */
  readonly model: string;
  readonly params: JudgeParams;
  /** True when the backend enforces `jsonSchema`, so the prompt can ask for JSON. */
  readonly structured: boolean;
  complete(request: JudgeRequest): Promise<JudgeAnswer>;
  close(): Promise<void>;
}

/** USD per million tokens, when the user knows the price. */
export interface Pricing {
  promptPerMillion: number;
  completionPerMillion: number;
}

/** The paper's settings (SPEC.md §5): temperature 0, at most 128 output tokens. */
export const DEFAULT_JUDGE_PARAMS: JudgeParams = { temperature: 0, maxTokens: 128 };

/** The paper's settings with the user's changes on top. */
export function judgeParams(given: Partial<JudgeParams> = {}): JudgeParams {
  return { ...DEFAULT_JUDGE_PARAMS, ...given };
}

export type TransientReason = 'timeout' | 'rate_limit' | 'server' | 'connection';

/**
 * A failure worth retrying after a pause: 429, 5xx, a timeout, a dropped connection. `retryAfterMs` is the
 * server's own wish (Retry-After), which the scheduler honours.
 */
export class JudgeTransientError extends Error {
  constructor(
    message: string,
    readonly reason: TransientReason,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'JudgeTransientError';
  }
}

/**
 * One request the judge will not answer (a prompt over its context, a request it rejects as invalid); other
 * requests may still succeed, so the report fails and the run goes on.
 */
export class JudgeRequestError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'JudgeRequestError';
  }
}

/** A failure no retry can fix and no other request escapes: a bad key, no access, an unknown model. */
export class JudgeFatalError extends CxrError {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    // A failure cxr foresaw (unreachable judge, rejected key, unloadable model): worded, without a stack,
    // exit 1 since the inputs themselves may be fine.
    super(message, { code: 'judge.fatal', kind: 'internal' });
    this.name = 'JudgeFatalError';
  }
}
