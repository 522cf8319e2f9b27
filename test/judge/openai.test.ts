import { afterEach, describe, expect, it } from 'vitest';
import { FakeChatServer, type FakeServerOptions, type Fault } from '../../bench/support/fake-judge-server.js';
import {
  createJudge,
  type Judge,
  JudgeFatalError,
  type JudgeRequest,
  JudgeRequestError,
  LimitedJudge,
  openAIJudge,
  parseJudgeSpec,
  retryAfter,
} from '../../src/judge/index.js';

const request: JudgeRequest = { messages: [{ role: 'user', content: 'Count the errors.' }] };
const SECRET = 'sk-test-secret-never-printed';
let server: FakeChatServer | undefined;

afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function serve(options: Partial<FakeServerOptions> = {}): Promise<FakeChatServer> {
  server = await new FakeChatServer({ answer: () => '[(A, 1)]\n[(B, 0)]', ...options }).start();
  return server;
}

/** Faults for the first requests, then normal answers. */
const firstFaults =
  (...faults: Fault[]) =>
  (_b: unknown, n: number) =>
    faults[n];

const limited = (url: string, limits: Partial<LimitedJudge['limits']> = {}) =>
  new LimitedJudge(openAIJudge({ kind: 'http', model: 'judge-model', baseURL: url, apiKey: SECRET }), {
    concurrency: 2,
    requestsPerMinute: 0,
    timeoutMs: 2_000,
    maxRetries: 3,
    baseDelayMs: 10,
    maxDelayMs: 100,
    ...limits,
  });

describe('OpenAI-compatible judge over a real socket', () => {
  it('sends the paper defaults and the key as a bearer token, and reads text and usage', async () => {
    const s = await serve();
    const judge = openAIJudge({ kind: 'http', model: 'judge-model', baseURL: s.url, apiKey: SECRET });
    const a = await judge.complete(request);
    expect(a.text).toBe('[(A, 1)]\n[(B, 0)]');
    expect(a.usage).toEqual({ promptTokens: 5, completionTokens: 5 });
    expect(a.finishReason).toBe('stop');
    const got = s.received[0]!;
    expect(got.path).toBe('/v1/chat/completions');
    expect(got.authorization).toBe(`Bearer ${SECRET}`);
    expect(got.body).toMatchObject({ model: 'judge-model', temperature: 0, max_tokens: 128 });
    expect(got.body.response_format).toBeUndefined();
  });

  it('asks for structured output with the request schema when enabled', async () => {
    const s = await serve();
    const schema = { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] };
    const judge = openAIJudge({
      kind: 'http',
      model: 'm',
      baseURL: s.url,
      structured: true,
      params: { maxTokens: 64, seed: 5 },
    });
    await judge.complete({ ...request, jsonSchema: schema });
    expect(s.received[0]!.body).toMatchObject({
      max_tokens: 64,
      seed: 5,
      response_format: { type: 'json_schema', json_schema: { schema } },
    });
  });

  it('sends the answer limit as max_completion_tokens when asked (OpenAI reasoning models)', async () => {
    const s = await serve();
    const judge = openAIJudge({
      kind: 'openai',
      model: 'o-model',
      baseURL: s.url,
      limitField: 'max_completion_tokens',
    });
    await judge.complete(request);
    expect(s.received[0]!.body).toMatchObject({ max_completion_tokens: 128 });
    expect(s.received[0]!.body.max_tokens).toBeUndefined();
  });

  it('waits as long as Retry-After asks on a 429, then succeeds', async () => {
    const s = await serve({ fault: firstFaults({ kind: 'status', status: 429, retryAfter: '1' }) });
    const judge = limited(s.url);
    const a = await judge.complete(request);
    expect(a.text).toContain('(A, 1)');
    expect(s.received).toHaveLength(2);
    const waited = s.received[1]!.at - s.received[0]!.at;
    expect(waited).toBeGreaterThanOrEqual(950);
    expect(judge.stats).toMatchObject({ requests: 2, retries: 1, rateLimited: 1 });
  });

  it('holds back every request, not only the rejected one, for the Retry-After pause', async () => {
    const s = await serve({
      fault: firstFaults({ kind: 'status', status: 429, retryAfter: '1' }, { kind: 'slow', delayMs: 100 }),
    });
    const judge = limited(s.url, { concurrency: 2 });
    await Promise.all([judge.complete(request), judge.complete(request), judge.complete(request)]);
    const [rejected, inFlight, ...later] = s.received;
    expect(inFlight!.at - rejected!.at).toBeLessThan(500); // already on its way when the 429 came
    expect(later).toHaveLength(2);
    for (const r of later) expect(r.at - rejected!.at).toBeGreaterThanOrEqual(950);
  });

  it('retries 500s, dropped connections and timeouts with backoff', async () => {
    const s = await serve({
      fault: firstFaults(
        { kind: 'status', status: 500 },
        { kind: 'reset' },
        { kind: 'slow', delayMs: 1_500 },
        { kind: 'status', status: 503 },
      ),
    });
    const judge = limited(s.url, { timeoutMs: 300, maxRetries: 4 });
    const a = await judge.complete(request);
    expect(a.text).toContain('(A, 1)');
    expect(s.received).toHaveLength(5);
    expect(judge.stats).toMatchObject({
      requests: 5,
      retries: 4,
      serverErrors: 2,
      connectionErrors: 1,
      timeouts: 1,
    });
  });

  it('gives up after maxRetries and reports the last transient error', async () => {
    const s = await serve({
      fault: () => ({ kind: 'status', status: 502, message: 'bad gateway upstream' }),
    });
    const judge = limited(s.url, { maxRetries: 2 });
    await expect(judge.complete(request)).rejects.toThrow(/bad gateway upstream/);
    expect(s.received).toHaveLength(3);
  });

  it('does not retry a 401 and never puts the key in the error', async () => {
    const s = await serve({ fault: () => ({ kind: 'status', status: 401, message: 'invalid api key' }) });
    const judge = limited(s.url);
    const err = await judge.complete(request).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JudgeFatalError);
    expect(String(err)).not.toContain(SECRET);
    expect(s.received).toHaveLength(1);
  });

  it('does not retry a request the server rejects as invalid, and marks it as this request only', async () => {
    const s = await serve({
      fault: () => ({
        kind: 'status',
        status: 400,
        message: "This model's maximum context length is 8192 tokens",
      }),
    });
    const err = await limited(s.url)
      .complete(request)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JudgeRequestError);
    expect(String(err)).toMatch(/maximum context length/);
    expect(s.received).toHaveLength(1);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const s = await serve({
      fault: () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        setTimeout(() => inFlight--, 100);
        return { kind: 'slow', delayMs: 100 };
      },
    });
    const judge = limited(s.url, { concurrency: 3 });
    await Promise.all(Array.from({ length: 9 }, () => judge.complete(request)));
    expect(s.received).toHaveLength(9);
    expect(peak).toBe(3);
  });

  it('spaces request starts to the requests-per-minute limit', async () => {
    // Starts are recorded where the limiter hands a request to the backend: times at the server would also
    // include the first request's connection setup, which shortens the measured span.
    const starts: number[] = [];
    const recording: Judge = {
      kind: 'http',
      model: 'recorder',
      params: { temperature: 0, maxTokens: 128 },
      structured: false,
      complete: async () => {
        starts.push(performance.now());
        return { text: '[(A, 1)]' };
      },
      close: async () => {},
    };
    const judge = new LimitedJudge(recording, {
      ...limited('http://unused').limits,
      concurrency: 8,
      requestsPerMinute: 600,
    });
    await Promise.all(Array.from({ length: 5 }, () => judge.complete(request))); // one start per 100 ms
    // Timers may fire up to a millisecond early; the limiter never starts a request before its slot.
    for (let i = 1; i < starts.length; i++)
      expect(starts[i]! - starts[0]!).toBeGreaterThanOrEqual(i * 100 - 2);
  });

  it('routes an Azure deployment to its deployment URL with the api-version', async () => {
    const s = await serve();
    const endpoint = s.url.replace(/\/v1$/, '');
    const judge = await createJudge(parseJudgeSpec('azure:my-gpt4'), {
      azureEndpoint: endpoint,
      azureApiVersion: '2024-10-21',
      apiKey: SECRET,
    });
    await judge.complete(request);
    expect(s.received[0]!.path).toBe('/openai/deployments/my-gpt4/chat/completions?api-version=2024-10-21');
    expect(s.received[0]!.apiKey).toBe(SECRET);
  });
});

describe('retryAfter', () => {
  const h = (entries: Record<string, string>) => new Headers(entries);
  it('reads seconds, milliseconds and HTTP dates', () => {
    expect(retryAfter(h({ 'retry-after': '3' }))).toBe(3000);
    expect(retryAfter(h({ 'retry-after-ms': '250', 'retry-after': '3' }))).toBe(250);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfter(h({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now)).toBe(5000);
    expect(retryAfter(h({}))).toBeUndefined();
    expect(retryAfter(h({ 'retry-after': 'soon' }))).toBeUndefined();
  });
});

describe('parseJudgeSpec', () => {
  it('reads every documented form', () => {
    expect(parseJudgeSpec('openai:gpt-4o')).toEqual({
      kind: 'openai',
      model: 'gpt-4o',
      baseURL: 'https://api.openai.com/v1',
    });
    expect(parseJudgeSpec('azure:gpt4-0613')).toEqual({ kind: 'azure', model: 'gpt4-0613' });
    expect(parseJudgeSpec('http://10.0.0.5:8000/v1#meta-llama/Llama-3.1-8B')).toEqual({
      kind: 'http',
      model: 'meta-llama/Llama-3.1-8B',
      baseURL: 'http://10.0.0.5:8000/v1',
    });
    expect(parseJudgeSpec('ollama:llama3.1')).toEqual({
      kind: 'http',
      model: 'llama3.1',
      baseURL: 'http://127.0.0.1:11434/v1',
    });
    expect(parseJudgeSpec('gguf:/models/judge.gguf')).toEqual({
      kind: 'gguf',
      modelPath: '/models/judge.gguf',
    });
  });
  it('rejects unknown and incomplete specs with the accepted forms', () => {
    expect(() => parseJudgeSpec('claude:opus')).toThrow(/unknown judge.*expected openai:MODEL/);
    expect(() => parseJudgeSpec('http://localhost:8000/v1')).toThrow(/model after "#"/);
    expect(() => parseJudgeSpec('openai:')).toThrow(/nothing after/);
  });
});
