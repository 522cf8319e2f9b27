/** The judge options print their defaults in --help; the library's named defaults are what runs. They agree. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHEXPROMPT_OPTIONS, DEFAULT_CONCURRENCY } from '../../src/cli/chexprompt-options.js';
import { DEFAULT_PARSE_RETRIES } from '../../src/eval/chexprompt/index.js';
import { DEFAULT_GGUF_CONTEXT, DEFAULT_JUDGE_PARAMS, DEFAULT_LIMITS } from '../../src/judge/index.js';
import { cli } from '../helpers.js';

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

describe('cxr chexprompt refuses judge options out of range before any judge is built', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cxr-chexprompt-options-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const pairs = join(dir, 'pairs.jsonl');
  writeFileSync(pairs, `${JSON.stringify({ id: 'a', prediction: 'No effusion.', reference: 'Normal.' })}\n`);

  // A negative --parse-retries used to ask the judge zero times and fail every report.
  it.each([
    ['--parse-retries', '-1'],
    ['--retries', '-1'],
    ['--max-tokens', '0'],
    ['--context', '0'],
    ['--threads', '0'],
    ['--rpm', '-5'],
  ])('%s %s: exit 2 naming the option', async (option, value) => {
    const r = await cli([
      'chexprompt',
      '--pred',
      pairs,
      '--judge',
      'gguf:/nonexistent.gguf',
      `${option}=${value}`,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(option);
    expect(r.stderr).toContain('must be');
  });
});
