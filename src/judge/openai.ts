/**
 * OpenAI-compatible Chat Completions through the official `openai` SDK: OpenAI itself, Azure OpenAI (deployment
 * + api-version), and any server that speaks the protocol at a base URL (vLLM, llama.cpp server, Ollama).
 * The SDK's own retries are off: the scheduler owns retries, so Retry-After and the limits are handled once.
 */
import OpenAI, { APIConnectionError, APIError, APIUserAbortError, AzureOpenAI } from 'openai';
import {
  type Judge,
  type JudgeAnswer,
  JudgeFatalError,
  type JudgeParams,
  type JudgeRequest,
  JudgeRequestError,
  JudgeTransientError,
  judgeParams,
} from './types.js';

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';
/** A GA Azure OpenAI data-plane version with Chat Completions and structured output. */
export const DEFAULT_AZURE_API_VERSION = '2024-10-21';
/** Servers without auth (vLLM, llama.cpp, Ollama) still need a non-empty bearer for the SDK. */
const NO_KEY = 'no-key';
/** The scheduler times attempts out; this only stops the SDK from imposing its own shorter default. */
const SDK_TIMEOUT_MS = 30 * 60_000;

/** The request field that carries the answer limit. */
export type LimitField = 'max_tokens' | 'max_completion_tokens';

export interface OpenAIJudgeOptions {
  kind: 'openai' | 'azure' | 'http';
  /** Model name, or the Azure deployment. */
  model: string;
  /** For `openai` and `http`. */
  baseURL?: string;
  /** For `azure`. */
  azure?: { endpoint: string; apiVersion: string };
  apiKey?: string;
  params?: Partial<JudgeParams>;
  /** Ask for JSON-schema structured output (`response_format`); only for servers that support it. */
  structured?: boolean;
  /** OpenAI's reasoning models take the answer limit only as `max_completion_tokens`. */
  limitField?: LimitField;
}

export function openAIJudge(options: OpenAIJudgeOptions): Judge {
  const apiKey = options.apiKey || NO_KEY;
  const common = { apiKey, maxRetries: 0, timeout: SDK_TIMEOUT_MS };
  const client =
    options.kind === 'azure'
      ? new AzureOpenAI({
          ...common,
          endpoint: options.azure?.endpoint,
          apiVersion: options.azure?.apiVersion ?? DEFAULT_AZURE_API_VERSION,
          deployment: options.model,
        })
      : new OpenAI({ ...common, baseURL: options.baseURL ?? OPENAI_BASE_URL });
  const params = judgeParams(options.params);
  const structured = options.structured ?? false;

  return {
    kind: options.kind,
    model: options.model,
    params,
    structured,
    async complete(request: JudgeRequest): Promise<JudgeAnswer> {
      const body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = {
        model: options.model,
        messages: request.messages,
        temperature: params.temperature,
        [options.limitField ?? 'max_tokens']: params.maxTokens,
        ...(params.seed === undefined ? {} : { seed: params.seed }),
        ...(structured && request.jsonSchema
          ? {
              response_format: {
                type: 'json_schema',
                json_schema: { name: 'answer', schema: request.jsonSchema, strict: true },
              },
            }
          : {}),
      };
      try {
        const r = await client.chat.completions.create(body, { signal: request.signal });
        const choice = r.choices?.[0];
        return {
          text: choice?.message?.content ?? '',
          finishReason: choice?.finish_reason ?? undefined,
          usage: r.usage
            ? { promptTokens: r.usage.prompt_tokens, completionTokens: r.usage.completion_tokens }
            : undefined,
        };
      } catch (e) {
        throw classify(e);
      }
    },
    async close() {},
  };
}

/** Rejections of one request's content (too long, invalid), as opposed to the client's key or model. */
const PER_REQUEST_STATUSES = new Set([400, 413, 422]);

/** Map SDK errors onto retryable, per-request and fatal ones; keys never appear in these messages. */
function classify(e: unknown): unknown {
  if (e instanceof APIUserAbortError) return e;
  if (e instanceof APIConnectionError) return new JudgeTransientError(e.message, 'connection');
  if (!(e instanceof APIError) || e.status === undefined) return e;
  const status = e.status;
  const retryAfterMs = retryAfter(e.headers);
  if (status === 429) return new JudgeTransientError(e.message, 'rate_limit', status, retryAfterMs);
  if (status === 408 || status === 409 || status >= 500) {
    return new JudgeTransientError(e.message, 'server', status, retryAfterMs);
  }
  if (PER_REQUEST_STATUSES.has(status)) return new JudgeRequestError(e.message, status);
  return new JudgeFatalError(e.message, status);
}

/** `retry-after-ms`, or `retry-after` as seconds or an HTTP date. */
export function retryAfter(headers: Headers | undefined, now = Date.now()): number | undefined {
  const ms = Number(headers?.get('retry-after-ms') ?? Number.NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
