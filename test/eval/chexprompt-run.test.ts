import { afterEach, describe, expect, it } from 'vitest';
import {
  type ChatRequestBody,
  FakeChatServer,
  type Fault,
  heuristicAnswer,
  pairOf,
} from '../../bench/support/fake-judge-server.js';
import {
  chexprompt,
  defaultTemplate,
  type JudgedPair,
  parseTemplate,
  promptHash,
  renderPrompt,
} from '../../src/eval/chexprompt/index.js';
import { mean } from '../../src/eval/stats/index.js';
import { AnswerCache, JudgeFatalError, LimitedJudge, openAIJudge } from '../../src/judge/index.js';

const PAIRS: JudgedPair[] = [
  {
    id: 'same',
    reference: 'The lungs are clear. No effusion.',
    candidate: 'The lungs are clear. No effusion.',
  },
  {
    id: 'false-pos',
    reference: 'The lungs are clear.',
    candidate: 'The lungs are clear. Small right pleural effusion.',
  },
  {
    id: 'missed',
    reference: 'Heart size normal. Mild degenerative spine change.',
    candidate: 'Heart size normal.',
  },
  {
    id: 'garbled-once',
    reference: 'Left basilar atelectasis.',
    candidate: 'Left basilar atelectasis. Large pneumothorax.',
  },
  { id: 'garbled-always', reference: 'No acute disease.', candidate: 'Nothing acute.' },
  { id: 'server-down', reference: 'Normal chest.', candidate: 'Normal chest radiograph.' },
];

let server: FakeChatServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** Faults by pair: one garbled answer, always garbled, always 500. */
function faults(): (body: ChatRequestBody) => Fault | undefined {
  const seen = new Map<string, number>();
  return (body) => {
    const { candidate } = pairOf(body);
    const n = seen.get(candidate) ?? 0;
    seen.set(candidate, n + 1);
    if (candidate.startsWith('Left basilar') && n === 0)
      return { kind: 'answer', text: 'I think it is mostly fine.' };
    if (candidate === 'Nothing acute.')
      return { kind: 'answer', text: `I cannot decide (attempt ${n + 1}).` };
    if (candidate === 'Normal chest radiograph.') return { kind: 'status', status: 500 };
    return undefined;
  };
}

async function setup(cache?: AnswerCache, port = 0) {
  server = await new FakeChatServer({ answer: heuristicAnswer, fault: faults() }).start(port);
  const judge = new LimitedJudge(openAIJudge({ kind: 'http', model: 'fake', baseURL: server.url }), {
    concurrency: 3,
    requestsPerMinute: 0,
    timeoutMs: 2_000,
    maxRetries: 2,
    baseDelayMs: 5,
    maxDelayMs: 20,
  });
  const options = {
    judge,
    judgeId: `http@${server.url}`,
    template: defaultTemplate(),
    format: 'list' as const,
    cache,
  };
  return { judge, options };
}

describe('chexprompt run', () => {
  it('scores what parses, retries unreadable answers, records failures with their raw text', async () => {
    const { options } = await setup();
    const report = await chexprompt(PAIRS, options);
    const byId = Object.fromEntries(report.results.map((r) => [r.id, r]));
    expect(byId.same).toMatchObject({ status: 'ok', attempts: 1, row: { total: 0 } });
    expect(byId['false-pos']).toMatchObject({
      status: 'ok',
      row: { significant_A: 1, total_significant: 1, total: 1 },
    });
    expect(byId.missed).toMatchObject({
      status: 'ok',
      row: { insignificant_B: 1, total_significant: 0, total: 1 },
    });
    expect(byId['garbled-once']).toMatchObject({ status: 'ok', attempts: 2, row: { significant_A: 1 } });
    expect(byId['garbled-always']).toMatchObject({
      status: 'failed',
      attempts: 3,
      raw: ['I cannot decide (attempt 1).', 'I cannot decide (attempt 2).', 'I cannot decide (attempt 3).'],
    });
    expect(byId['garbled-always']!.status === 'failed' && byId['garbled-always']!.reason).toMatch(
      /unparseable/,
    );
    expect(byId['server-down']).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/judge error: 500/),
    });

    // The retry after an unreadable answer shows the judge its answer and the format again.
    const retry = server!.received.find((r) => r.body.messages.length === 4)!;
    expect(retry.body.messages[2]).toEqual({ role: 'assistant', content: 'I think it is mostly fine.' });
    expect(retry.body.messages[3]!.content).toMatch(/could not be read.*\n.*Clinically significant errors/s);

    const agg = report.aggregate;
    expect(agg).toMatchObject({ reports: 6, scored: 4, failed: 2 });
    const scored = report.results.flatMap((r) => (r.status === 'ok' ? [r.row] : []));
    expect(agg.metrics.mean_significant!.value).toBeCloseTo(mean(scored.map((r) => r.total_significant)), 12);
    expect(agg.metrics.mean_significant!.value).toBeCloseTo(0.5, 12);
    expect(agg.metrics.mean_total!.value).toBeCloseTo(0.75, 12);
    expect(agg.metrics.share_no_significant!.value).toBeCloseTo(0.5, 12);
    expect(agg.metrics.share_no_error!.value).toBeCloseTo(0.25, 12);
    expect(agg.metrics.mean_significant_A!.value).toBeCloseTo(0.5, 12);
    expect(agg.metrics.mean_insignificant_B!.value).toBeCloseTo(0.25, 12);
    for (const e of Object.values(agg.metrics)) {
      expect(e.low).toBeLessThanOrEqual(e.value);
      expect(e.high).toBeGreaterThanOrEqual(e.value);
      expect(e.resamples).toBe(500);
    }
    expect(report.signature).toMatch(
      /^chexprompt:1\|judge:http@http:\/\/127\.0\.0\.1:\d+\/v1\|model:fake\|prompt:[0-9a-f]{12}\|format:list\|temp:0\|max_tokens:128\|parse_retries:2\|bs:500\|seed:3/,
    );
    expect(report.usage.calls).toBe(1 + 1 + 1 + 2 + 3);
    expect(report.usage.promptTokens).toBeGreaterThan(0);
  });

  it('reruns from the cache without asking again, except for the failures', async () => {
    const cache = AnswerCache.open(':memory:');
    const first = await setup(cache);
    await chexprompt(PAIRS, first.options);
    const port = Number(new URL(server!.url).port);
    await server!.stop();
    const second = await setup(cache, port); // the same server again: same judge identity
    const report = await chexprompt(PAIRS, second.options);
    expect(report.usage.cacheHits).toBe(4);
    // Only the two failed pairs reach the server again: 3 unreadable answers + 1 request retried twice.
    expect(new Set(server!.received.map((r) => pairOf(r.body).candidate))).toEqual(
      new Set(['Nothing acute.', 'Normal chest radiograph.']),
    );
    expect(report.results.filter((r) => r.status === 'ok' && r.cached)).toHaveLength(4);
    expect(report.aggregate.scored).toBe(4);
  });

  it('asks once for identical pairs judged at the same time', async () => {
    server = await new FakeChatServer({
      answer: heuristicAnswer,
      fault: () => ({ kind: 'slow', delayMs: 50 }),
    }).start();
    const judge = openAIJudge({ kind: 'http', model: 'fake', baseURL: server.url });
    const twin = { reference: 'The lungs are clear.', candidate: 'Right pleural effusion.' };
    const pairs = [1, 2, 3].map((i) => ({ id: `twin-${i}`, ...twin }));
    const report = await chexprompt(pairs, {
      judge,
      judgeId: 'x',
      template: defaultTemplate(),
      format: 'list',
    });
    expect(server.received).toHaveLength(1);
    expect(report.results.map((r) => r.status === 'ok' && r.cached)).toEqual([false, true, true]);
    expect(report.results.map((r) => r.id)).toEqual(['twin-1', 'twin-2', 'twin-3']);
    expect(report.usage).toMatchObject({ calls: 1, cacheHits: 2 });
  });

  it('fails only the report the judge refuses, but stops when it refuses everything', async () => {
    const tooLong = (body: ChatRequestBody): Fault | undefined =>
      pairOf(body).candidate === 'Nothing acute.'
        ? { kind: 'status', status: 400, message: 'context too long' }
        : undefined;
    server = await new FakeChatServer({ answer: heuristicAnswer, fault: tooLong }).start();
    const judge = openAIJudge({ kind: 'http', model: 'fake', baseURL: server.url });
    const options = { judge, judgeId: 'x', template: defaultTemplate(), format: 'list' as const };
    const report = await chexprompt(PAIRS, options);
    const refused = report.results.find((r) => r.id === 'garbled-always');
    expect(refused).toMatchObject({
      status: 'failed',
      failure: 'refused',
      attempts: 1,
      reason: expect.stringMatching(/judge refused: 400 context too long/),
    });
    expect(report.aggregate).toMatchObject({ scored: 5, failed: 1 }); // no other fault on this server
    await server.stop();

    server = await new FakeChatServer({
      answer: heuristicAnswer,
      fault: () => ({ kind: 'status', status: 400, message: 'unsupported parameter' }),
    }).start();
    const all = Array.from({ length: 30 }, (_, i) => ({
      id: String(i),
      reference: `r${i}`,
      candidate: `c${i}`,
    }));
    const run = chexprompt(all, {
      ...options,
      judge: openAIJudge({ kind: 'http', model: 'fake', baseURL: server.url }),
      workers: 2,
    });
    await expect(run).rejects.toThrow(
      /refused the first 10 requests; the last: judge refused: 400 unsupported parameter/,
    );
    expect(server.received.length).toBeLessThan(30);
  });

  it('stops the whole run on an error no retry can fix, keeping what was answered', async () => {
    server = await new FakeChatServer({
      answer: heuristicAnswer,
      fault: (body) =>
        pairOf(body).candidate === 'Nothing acute.'
          ? { kind: 'status', status: 401, message: 'bad key' }
          : undefined,
    }).start();
    const cache = AnswerCache.open(':memory:');
    const judge = openAIJudge({ kind: 'http', model: 'fake', baseURL: server.url });
    const options = {
      judge,
      judgeId: 'x',
      template: defaultTemplate(),
      format: 'list' as const,
      cache,
      workers: 1,
    };
    await expect(chexprompt(PAIRS, options)).rejects.toBeInstanceOf(JudgeFatalError);
    expect(cache.stats.writes).toBe(4); // the four pairs before it
  });
});

describe('prompt templates', () => {
  const pair = { reference: 'REF TEXT', candidate: 'CAND TEXT' };

  it('renders the default prompt with system and user messages, examples and the format', () => {
    const [system, user] = renderPrompt(defaultTemplate(), 'list', pair);
    expect(system!.role).toBe('system');
    expect(user!.content).toContain('REFERENCE: REF TEXT\nCANDIDATE: CAND TEXT');
    expect(user!.content).toContain('Clinically significant errors: [(A, n)');
    expect(user!.content).toContain('Example 1');
    for (const letter of ['A.', 'B.', 'C.', 'D.', 'E.', 'F.'])
      expect(user!.content).toContain(`\n${letter} `);
    expect(user!.content).not.toMatch(/\{\{/);
  });

  it('loads a user template with named placeholders, and never substitutes inside the reports', () => {
    const t = parseTemplate('Judge {{ candidate }} against {{reference}}.', 'mine.txt');
    const messages = renderPrompt(t, 'json', { reference: 'has {{candidate}} in it', candidate: 'C' });
    expect(messages).toEqual([{ role: 'user', content: 'Judge C against has {{candidate}} in it.' }]);
  });

  it('rejects templates with unknown or missing placeholders and bad sections, naming the file', () => {
    expect(() => parseTemplate('{{candidate}} {{reference}} {{report}}', 't.txt')).toThrow(
      /t\.txt.*unknown placeholder \{\{report\}\}/,
    );
    expect(() => parseTemplate('only {{candidate}}', 't.txt')).toThrow(/never uses \{\{reference\}\}/);
    expect(() => parseTemplate('[[system]]\n{{candidate}} {{reference}}', 't.txt')).toThrow(
      /no \[\[user\]\] section/,
    );
    expect(() => parseTemplate('intro\n[[user]]\n{{candidate}} {{reference}}', 't.txt')).toThrow(
      /before the first/,
    );
  });

  it('hashes the prompt: stable, and different for another template or format', () => {
    const d = defaultTemplate();
    expect(promptHash(d, 'list')).toBe(promptHash(defaultTemplate(), 'list'));
    expect(promptHash(d, 'json')).not.toBe(promptHash(d, 'list'));
    expect(promptHash(parseTemplate('{{candidate}} vs {{reference}}', 'a'), 'list')).not.toBe(
      promptHash(d, 'list'),
    );
  });
});
