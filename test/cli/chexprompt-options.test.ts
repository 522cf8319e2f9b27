/** The judge options print their defaults in --help; the library's named defaults are what runs. They agree. */
import { describe, expect, it } from 'vitest';
import { CHEXPROMPT_OPTIONS, DEFAULT_CONCURRENCY } from '../../src/cli/chexprompt-options.js';
import { DEFAULT_PARSE_RETRIES } from '../../src/eval/chexprompt/index.js';
import { DEFAULT_GGUF_CONTEXT, DEFAULT_JUDGE_PARAMS, DEFAULT_LIMITS } from '../../src/judge/index.js';

const MS_PER_SECOND = 1000;

describe('cxr chexprompt option defaults', () => {
  it.each([
    ['temperature', DEFAULT_JUDGE_PARAMS.temperature],
    ['max-tokens', DEFAULT_JUDGE_PARAMS.maxTokens],
    ['concurrency', DEFAULT_LIMITS.concurrency],
    ['rpm', DEFAULT_LIMITS.requestsPerMinute],
    ['timeout', DEFAULT_LIMITS.timeoutMs / MS_PER_SECOND],
    ['retries', DEFAULT_LIMITS.maxRetries],
    ['parse-retries', DEFAULT_PARSE_RETRIES],
    ['context', DEFAULT_GGUF_CONTEXT],
  ])('--%s defaults to the library default %s', (name, value) => {
    expect(CHEXPROMPT_OPTIONS[name]?.default).toBe(String(value));
  });

  it('runs as many requests at once as the scheduler would', () => {
    expect(DEFAULT_CONCURRENCY).toBe(DEFAULT_LIMITS.concurrency);
  });
});
