/**
 * Scoring pairs with a judge: render the prompt, consult the cache, ask, parse; an unreadable answer is asked
 * again (with a reminder of the format) a bounded number of times and then recorded as a failure with its raw
 * text. A judge error that no retry can fix (bad key, unknown model) stops the run; everything answered so far is
 * already in the cache.
 */
import {
  type AnswerCache,
  type ChatMessage,
  cacheKey,
  type Judge,
  type JudgeAnswer,
  JudgeFatalError,
  type Pricing,
  type TokenUsage,
} from '../../judge/index.js';
import { type CountRow, countRow, type ErrorCounts } from './counts.js';
import { parseAnswer } from './parse.js';
import {
  type AnswerFormat,
  answerSchema,
  formatReminder,
  type PromptTemplate,
  promptHash,
  renderPrompt,
} from './prompt.js';

/** Asks after the first unreadable answer. */
export const DEFAULT_PARSE_RETRIES = 2;
/** Pairs in flight at once; the judge's own limiter decides what actually reaches the server. */
export const DEFAULT_WORKERS = 8;

export interface JudgedPair {
  id: string;
  candidate: string;
  reference: string;
}

export type ReportResult =
  | {
      id: string;
      status: 'ok';
      counts: ErrorCounts;
      row: CountRow;
      form: 'json' | 'list';
      attempts: number;
      cached: boolean;
    }
  | { id: string; status: 'failed'; attempts: number; reason: string; raw: string[] };

export interface RunOptions {
  judge: Judge;
  /** What identifies the judge in cache keys: kind, base URL or file identity, and model. */
  judgeId: string;
  template: PromptTemplate;
  format: AnswerFormat;
  cache?: AnswerCache;
  parseRetries?: number;
  workers?: number;
  pricing?: Pricing;
  /** Called once per pair as soon as it is settled (progress, streaming per-report output). */
  onResult?: (result: ReportResult, index: number) => void;
}

export interface RunUsage extends TokenUsage {
  /** Judge calls made in this run (cache hits make none). */
  calls: number;
  cacheHits: number;
  /** USD, when pricing is known. */
  costUsd?: number;
}

export interface RunOutput {
  results: ReportResult[];
  usage: RunUsage;
  promptHash: string;
}

export async function runChexprompt(pairs: JudgedPair[], options: RunOptions): Promise<RunOutput> {
  const hash = promptHash(options.template, options.format);
  const usage: RunUsage = { promptTokens: 0, completionTokens: 0, calls: 0, cacheHits: 0 };
  const results: ReportResult[] = new Array(pairs.length);
  const abort = new AbortController();
  let fatal: unknown;
  let next = 0;
  const worker = async () => {
    while (next < pairs.length && !abort.signal.aborted) {
      const index = next++;
      try {
        results[index] = await judgePair(pairs[index]!, options, hash, usage, abort.signal);
        options.onResult?.(results[index]!, index);
      } catch (e) {
        fatal ??= e;
        abort.abort();
      }
    }
  };
  const workers = Math.max(1, Math.min(options.workers ?? DEFAULT_WORKERS, pairs.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (fatal !== undefined) throw fatal;
  if (options.pricing) {
    usage.costUsd =
      (usage.promptTokens * options.pricing.promptPerMillion +
        usage.completionTokens * options.pricing.completionPerMillion) /
      1e6;
  }
  return { results, usage, promptHash: hash };
}

async function judgePair(
  pair: JudgedPair,
  options: RunOptions,
  hash: string,
  usage: RunUsage,
  signal: AbortSignal,
): Promise<ReportResult> {
  const { judge, format } = options;
  const key = cacheKey({
    judge: options.judgeId,
    model: judge.model,
    promptHash: hash,
    params: judge.params,
    format,
    candidate: pair.candidate,
    reference: pair.reference,
  });
  const hit = options.cache?.get(key);
  if (hit) {
    const parsed = parseAnswer(hit.text);
    if (parsed.ok) {
      usage.cacheHits++;
      return {
        id: pair.id,
        status: 'ok',
        counts: parsed.counts,
        row: countRow(parsed.counts),
        form: parsed.form,
        attempts: 0,
        cached: true,
      };
    }
  }
  const base = renderPrompt(options.template, format, pair);
  const jsonSchema = format === 'json' ? answerSchema() : undefined;
  const parseRetries = options.parseRetries ?? DEFAULT_PARSE_RETRIES;
  const raw: string[] = [];
  let reason = '';
  for (let attempt = 1; attempt <= parseRetries + 1; attempt++) {
    const messages: ChatMessage[] =
      raw.length === 0
        ? base
        : [
            ...base,
            { role: 'assistant', content: raw.at(-1)! },
            { role: 'user', content: formatReminder(format) },
          ];
    let answer: JudgeAnswer;
    try {
      answer = await judge.complete({ messages, jsonSchema, signal });
    } catch (e) {
      if (e instanceof JudgeFatalError || signal.aborted) throw e;
      // Transient failures the scheduler could not get past: this report fails, the run goes on.
      return {
        id: pair.id,
        status: 'failed',
        attempts: attempt,
        reason: `judge error: ${(e as Error).message}`,
        raw,
      };
    }
    usage.calls++;
    usage.promptTokens += answer.usage?.promptTokens ?? 0;
    usage.completionTokens += answer.usage?.completionTokens ?? 0;
    const parsed = parseAnswer(answer.text);
    if (parsed.ok) {
      options.cache?.put(key, answer, { judge: options.judgeId, model: judge.model });
      return {
        id: pair.id,
        status: 'ok',
        counts: parsed.counts,
        row: countRow(parsed.counts),
        form: parsed.form,
        attempts: attempt,
        cached: false,
      };
    }
    raw.push(answer.text);
    reason = `unparseable answer: ${parsed.reason}`;
  }
  return { id: pair.id, status: 'failed', attempts: parseRetries + 1, reason, raw };
}
