/**
 * One suite, every judge implementation: the OpenAI-compatible client against the loopback server, the same
 * behind the scheduler, and the local GGUF judge running a tiny random-weight LLaMA written by the test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeChatServer, heuristicAnswer } from '../../bench/support/fake-judge-server.js';
import { answerSchema, defaultTemplate, parseAnswer, renderPrompt } from '../../src/eval/chexprompt/index.js';
import { DEFAULT_LIMITS, ggufJudge, type Judge, LimitedJudge, openAIJudge } from '../../src/judge/index.js';
import { writeTinyLlama } from './tiny-llama.js';

interface Implementation {
  name: string;
  /** Whether it enforces a JSON schema; those that do must always give a parseable JSON answer. */
  structured: boolean;
  open(): Promise<Judge>;
}

const pair = {
  reference: 'Small left pleural effusion. No pneumothorax.',
  candidate: 'Large right pleural effusion. No pneumothorax.',
};

function conformance(impl: Implementation): void {
  describe(`judge conformance: ${impl.name}`, () => {
    let judge: Judge;
    beforeAll(async () => {
      judge = await impl.open();
    });
    afterAll(async () => {
      await judge?.close();
    });

    it('uses the paper defaults: temperature 0, at most 128 answer tokens', () => {
      expect(judge.params).toMatchObject({ temperature: 0, maxTokens: 128 });
      expect(judge.model).not.toBe('');
    });

    it('answers a chat request with text and token usage', async () => {
      const a = await judge.complete({ messages: renderPrompt(defaultTemplate(), 'list', pair) });
      expect(typeof a.text).toBe('string');
      expect(a.text.length).toBeGreaterThan(0);
      expect(a.usage?.promptTokens).toBeGreaterThan(100);
      expect(a.usage?.completionTokens).toBeGreaterThan(0);
    });

    it('reports whether it enforces a JSON schema', () => {
      expect(judge.structured).toBe(impl.structured);
    });

    it.skipIf(!impl.structured)(
      'gives an answer that parses into counts under the JSON schema (skipped: no schema support)',
      async () => {
        const a = await judge.complete({
          messages: renderPrompt(defaultTemplate(), 'json', pair),
          jsonSchema: answerSchema(),
        });
        const parsed = parseAnswer(a.text);
        expect(parsed, a.text).toMatchObject({ ok: true, form: 'json' });
      },
    );

    it('rejects a request whose signal is already aborted', async () => {
      const controller = new AbortController();
      controller.abort();
      await expect(
        judge.complete({ messages: [{ role: 'user', content: 'hello' }], signal: controller.signal }),
      ).rejects.toThrow();
    });

    it('answers the same request the same way at temperature 0', async () => {
      const messages = renderPrompt(defaultTemplate(), 'json', pair);
      const a = await judge.complete({ messages, jsonSchema: answerSchema() });
      const b = await judge.complete({ messages, jsonSchema: answerSchema() });
      expect(b.text).toBe(a.text);
    });
  });
}

let server: FakeChatServer;
let dir: string;
beforeAll(async () => {
  server = await new FakeChatServer({ answer: heuristicAnswer }).start();
  dir = mkdtempSync(join(tmpdir(), 'cxr-judge-'));
  writeTinyLlama(join(dir, 'tiny.gguf'));
});
afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

conformance({
  name: 'OpenAI-compatible HTTP',
  structured: true,
  open: async () => openAIJudge({ kind: 'http', model: 'fake-judge', baseURL: server.url, structured: true }),
});
conformance({
  name: 'OpenAI-compatible HTTP without structured output',
  structured: false,
  open: async () => openAIJudge({ kind: 'http', model: 'fake-judge', baseURL: server.url }),
});
conformance({
  name: 'OpenAI-compatible HTTP behind the scheduler',
  structured: true,
  open: async () =>
    new LimitedJudge(
      openAIJudge({ kind: 'http', model: 'fake-judge', baseURL: server.url, structured: true }),
      {
        ...DEFAULT_LIMITS,
        timeoutMs: 5_000,
      },
    ),
});
conformance({
  name: 'local GGUF (tiny random LLaMA, node-llama-cpp, JSON-schema grammar)',
  structured: true,
  // One thread: on two cores a 64-wide model spends its time handing work between threads.
  open: () => ggufJudge({ modelPath: join(dir, 'tiny.gguf'), threads: 1 }),
});
