/**
 * Wraps any judge with the manners a shared API needs: a concurrency limit, a requests-per-minute limit,
 * per-request timeouts, and exponential backoff on transient failures that honours the server's Retry-After.
 */
import {
  type Judge,
  type JudgeAnswer,
  type JudgeParams,
  type JudgeRequest,
  JudgeTransientError,
  type TransientReason,
} from './types.js';

export interface LimitOptions {
  /** Requests in flight at once. */
  concurrency: number;
  /** Request starts per minute; 0 = unlimited. */
  requestsPerMinute: number;
  /** Per attempt; 0 = none. */
  timeoutMs: number;
  /** Retries after the first attempt, for transient failures only. */
  maxRetries: number;
  /** First backoff pause; doubles each retry up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_LIMITS: LimitOptions = {
  concurrency: 4,
  requestsPerMinute: 0,
  timeoutMs: 60_000,
  maxRetries: 6,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
};

/** A Retry-After beyond this is treated as this: a run should not stall for hours on one header. */
export const MAX_RETRY_AFTER_MS = 120_000;
/** Backoff pauses are stretched by a random 0 to 25%. */
const BACKOFF_JITTER = 0.25;

export interface SchedulerStats {
  requests: number;
  retries: number;
  timeouts: number;
  rateLimited: number;
  serverErrors: number;
  connectionErrors: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A counting semaphore. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = Math.max(1, n);
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

export class LimitedJudge implements Judge {
  readonly stats: SchedulerStats = {
    requests: 0,
    retries: 0,
    timeouts: 0,
    rateLimited: 0,
    serverErrors: 0,
    connectionErrors: 0,
  };
  private readonly slots: Slots;
  private nextStart = 0;
  /** A server's Retry-After applies to every request, not only the one that got it. */
  private pausedUntil = 0;

  constructor(
    readonly inner: Judge,
    readonly limits: LimitOptions = DEFAULT_LIMITS,
  ) {
    this.slots = new Slots(limits.concurrency);
  }

  get kind(): string {
    return this.inner.kind;
  }
  get model(): string {
    return this.inner.model;
  }
  get params(): JudgeParams {
    return this.inner.params;
  }
  get structured(): boolean {
    return this.inner.structured;
  }

  async complete(request: JudgeRequest): Promise<JudgeAnswer> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(request);
      } catch (e) {
        if (!(e instanceof JudgeTransientError) || attempt >= this.limits.maxRetries) throw e;
        if (request.signal?.aborted) throw e;
        this.stats.retries++;
        if (e.retryAfterMs !== undefined) {
          this.pausedUntil = Math.max(
            this.pausedUntil,
            Date.now() + Math.min(e.retryAfterMs, MAX_RETRY_AFTER_MS),
          );
        }
        await sleep(this.backoffMs(attempt, e.retryAfterMs));
      }
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /**
   * Exponential backoff with up to BACKOFF_JITTER extra (so requests that failed together do not all come back
   * together), or the server's Retry-After when it asks for longer.
   */
  private backoffMs(attempt: number, retryAfterMs: number | undefined): number {
    const base = Math.min(this.limits.maxDelayMs, this.limits.baseDelayMs * 2 ** attempt);
    const exponential = base * (1 + BACKOFF_JITTER * Math.random());
    if (retryAfterMs === undefined) return exponential;
    return Math.max(exponential, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
  }

  private async attempt(request: JudgeRequest): Promise<JudgeAnswer> {
    await this.slots.acquire();
    try {
      await this.waitForRateSlot();
      this.stats.requests++;
      return await this.withTimeout(request);
    } catch (e) {
      this.count(e);
      throw e;
    } finally {
      this.slots.release();
    }
  }

  /**
   * Waits out a pause a server asked for, and spaces request starts evenly so no minute holds more than
   * requestsPerMinute.
   */
  private async waitForRateSlot(): Promise<void> {
    const now = Date.now();
    let start = Math.max(now, this.pausedUntil);
    const rpm = this.limits.requestsPerMinute;
    if (rpm > 0) {
      start = Math.max(start, this.nextStart);
      this.nextStart = start + 60_000 / rpm;
    }
    if (start > now) await sleep(start - now);
  }

  private async withTimeout(request: JudgeRequest): Promise<JudgeAnswer> {
    const timeoutMs = this.limits.timeoutMs;
    if (timeoutMs <= 0) return this.inner.complete(request);
    const controller = new AbortController();
    if (request.signal?.aborted) controller.abort(request.signal.reason);
    const onOuterAbort = () => controller.abort(request.signal?.reason);
    request.signal?.addEventListener('abort', onOuterAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error('judge request timed out'));
    }, timeoutMs);
    try {
      return await this.inner.complete({ ...request, signal: controller.signal });
    } catch (e) {
      if (timedOut) throw new JudgeTransientError(`no answer within ${timeoutMs} ms`, 'timeout');
      throw e;
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onOuterAbort);
    }
  }

  private count(e: unknown): void {
    if (!(e instanceof JudgeTransientError)) return;
    const counter = REASON_COUNTER[e.reason];
    this.stats[counter]++;
  }
}

const REASON_COUNTER: Record<TransientReason, keyof SchedulerStats> = {
  timeout: 'timeouts',
  rate_limit: 'rateLimited',
  server: 'serverErrors',
  connection: 'connectionErrors',
};
