/**
 * Scoring pairs with a judge: render the prompt, consult the cache, ask, parse; an unreadable answer is asked
 * again (with a reminder of the format) a bounded number of times and then recorded as a failure with its raw
 * text. A request the judge refuses fails that report only; a judge error that no retry can fix (bad key, unknown
 * model) stops the run, and so do refusals of every request so far; everything answered is already in the cache.
 */
import {
  type AnswerCache,
  type ChatMessage,
  cacheKey,
  type Judge,
  type JudgeAnswer,
  JudgeFatalError,
  JudgeRequestError,
  type Pricing,
  type TokenUsage,
} from '../../judge/index.js';
import { type CountRow, countRow, type ErrorCounts } from './counts.js';
import { type ParseResult, parseAnswer } from './parse.js';
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
  | { id: string; status: 'failed'; failure: FailureKind; attempts: number; reason: string; raw: string[] };

/**
 * Why a report failed: every answer unreadable; the judge unreachable after the scheduler's retries; the judge
 * refusing this one request (too long for its context, rejected as invalid).
 */
export type FailureKind = 'unparseable' | 'judge_error' | 'refused';

/**
 * A run whose first this-many reports all fail at the judge (refused, or unreachable after the retries) is
 * stopped: the judge refuses everything (a bad parameter) or is not there (down, wrong address, no key), and
 * going on would only spend time and money on failures.
 */
export const REFUSALS_BEFORE_STOP = 10;

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

interface RunContext {
  options: RunOptions;
  hash: string;
  usage: RunUsage;
  signal: AbortSignal;
  /** Identical pairs (Open-I repeats many findings texts) share one judge call even when in flight together. */
  inflight: Map<string, Promise<ReportResult>>;
}

export async function runChexprompt(pairs: JudgedPair[], options: RunOptions): Promise<RunOutput> {
  const abort = new AbortController();
  const ctx: RunContext = {
    options,
    hash: promptHash(options.template, options.format),
    usage: { promptTokens: 0, completionTokens: 0, calls: 0, cacheHits: 0 },
    signal: abort.signal,
    inflight: new Map(),
  };
  const results: ReportResult[] = new Array(pairs.length);
  let fatal: unknown;
  let next = 0;
  const tally = { ok: 0, refused: 0, unreachable: 0 };
  const worker = async () => {
    while (next < pairs.length && !abort.signal.aborted) {
      const index = next++;
      try {
        const result = await judgePair(pairs[index]!, ctx);
        results[index] = result;
        options.onResult?.(result, index);
        if (result.status === 'ok') tally.ok++;
        else if (result.failure !== 'unparseable') {
          tally[result.failure === 'refused' ? 'refused' : 'unreachable']++;
          const failed = tally.refused + tally.unreachable;
          if (failed >= REFUSALS_BEFORE_STOP && tally.ok === 0) {
            const what = tally.unreachable === 0 ? 'refused' : 'failed';
            throw new JudgeFatalError(
              `the judge ${what} the first ${failed} requests; the last: ${result.reason}`,
            );
          }
        }
      } catch (e) {
        fatal ??= e;
        abort.abort();
      }
    }
  };
  const workers = Math.max(1, Math.min(options.workers ?? DEFAULT_WORKERS, pairs.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (fatal !== undefined) throw fatal;
  const { usage } = ctx;
  if (options.pricing) {
    usage.costUsd =
      (usage.promptTokens * options.pricing.promptPerMillion +
        usage.completionTokens * options.pricing.completionPerMillion) /
      1e6;
  }
  return { results, usage, promptHash: ctx.hash };
}

type Parsed = Extract<ParseResult, { ok: true }>;

function scored(id: string, parsed: Parsed, attempts: number, cached: boolean): ReportResult {
  return {
    id,
    status: 'ok',
    counts: parsed.counts,
    row: countRow(parsed.counts),
    form: parsed.form,
    attempts,
    cached,
  };
}

async function judgePair(pair: JudgedPair, ctx: RunContext): Promise<ReportResult> {
  const { judge, format } = ctx.options;
  const key = cacheKey({
    judge: ctx.options.judgeId,
    model: judge.model,
    promptHash: ctx.hash,
    params: judge.params,
    format,
    candidate: pair.candidate,
    reference: pair.reference,
  });
  const hit = ctx.options.cache?.get(key);
  const fromCache = hit && parseAnswer(hit.text);
  if (fromCache?.ok) {
    ctx.usage.cacheHits++;
    return scored(pair.id, fromCache, 0, true);
  }
  const pending = ctx.inflight.get(key);
  if (pending) {
    const twin = await pending;
    if (twin.status === 'failed') return { ...twin, id: pair.id };
    ctx.usage.cacheHits++;
    return { ...twin, id: pair.id, attempts: 0, cached: true };
  }
  const asked = askJudge(pair, key, ctx);
  ctx.inflight.set(key, asked);
  try {
    return await asked;
  } finally {
    ctx.inflight.delete(key);
  }
}

async function askJudge(pair: JudgedPair, key: string, ctx: RunContext): Promise<ReportResult> {
  const { judge, format, cache } = ctx.options;
  const { usage, signal } = ctx;
  const base = renderPrompt(ctx.options.template, format, pair);
  const jsonSchema = format === 'json' ? answerSchema() : undefined;
  const parseRetries = ctx.options.parseRetries ?? DEFAULT_PARSE_RETRIES;
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
      if (e instanceof JudgeRequestError) {
        const reason = `judge refused: ${e.message}`;
        return { id: pair.id, status: 'failed', failure: 'refused', attempts: attempt, reason, raw };
      }
      // Transient failures the scheduler could not get past: this report fails, the run goes on.
      return {
        id: pair.id,
        status: 'failed',
        failure: 'judge_error',
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
      cache?.put(key, answer, { judge: ctx.options.judgeId, model: judge.model });
      return scored(pair.id, parsed, attempt, false);
    }
    raw.push(answer.text);
    reason = `unparseable answer: ${parsed.reason}`;
  }
  return { id: pair.id, status: 'failed', failure: 'unparseable', attempts: parseRetries + 1, reason, raw };
}
