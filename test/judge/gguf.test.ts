/**
 * The node-llama-cpp path end to end with a real (tiny, random-weight) LLaMA written by the test: the answers are
 * meaningless, but the JSON-schema grammar must make every one of them parse into counts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chexprompt, defaultTemplate, ERROR_TYPES, renderPrompt } from '../../src/eval/chexprompt/index.js';
import { ggufJudge, type Judge, JudgeFatalError, JudgeRequestError } from '../../src/judge/index.js';
import { TINY_SHAPE, tinyLlamaGguf, writeTinyLlama } from './tiny-llama.js';

let dir: string;
let modelPath: string;
let judge: Judge;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cxr-gguf-'));
  modelPath = writeTinyLlama(join(dir, 'tiny.gguf'));
  judge = await ggufJudge({ modelPath, threads: 1 });
});
afterAll(async () => {
  await judge?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('GGUF writer', () => {
  it('writes a GGUF v3 header, the metadata and aligned F32 tensors', () => {
    const bytes = readFileSync(modelPath);
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('GGUF');
    expect(bytes.readUInt32LE(4)).toBe(3);
    expect(Number(bytes.readBigUInt64LE(8))).toBe(2 + 9 * TINY_SHAPE.layers + 1); // tensors
    expect(Number(bytes.readBigUInt64LE(16))).toBe(18); // metadata entries
    expect(bytes.length % 32).toBe(0);
    expect(tinyLlamaGguf().equals(bytes)).toBe(true); // seeded: the same file every time
  });
});

describe('GGUF judge (node-llama-cpp, prebuilt CPU binary)', () => {
  it('scores CheXprompt pairs: every grammar-constrained answer parses into the 12 counts', async () => {
    const pairs = [
      { id: '1', reference: 'Small left pleural effusion.', candidate: 'Large right pleural effusion.' },
      { id: '2', reference: 'The lungs are clear.', candidate: 'The lungs are clear.' },
      { id: '3', reference: 'Heart size is normal. No pneumothorax.', candidate: 'Cardiomegaly.' },
    ];
    const report = await chexprompt(pairs, {
      judge,
      judgeId: 'gguf@tiny',
      template: defaultTemplate(),
      format: 'json',
      parseRetries: 0,
      bootstrap: { resamples: 50 },
    });
    expect(report.aggregate).toMatchObject({ reports: 3, scored: 3, failed: 0 });
    for (const r of report.results) {
      expect(r).toMatchObject({ status: 'ok', form: 'json', attempts: 1 });
      if (r.status !== 'ok') continue;
      for (const t of ERROR_TYPES) {
        expect(Number.isInteger(r.counts.significant[t])).toBe(true);
        expect(Number.isInteger(r.counts.insignificant[t])).toBe(true);
      }
    }
    expect(report.usage.promptTokens).toBeGreaterThan(1000);
    expect(report.signature).toContain('|model:tiny.gguf|'); // the file name, not where it lives
    expect(report.signature).toContain('format:json');
  });

  it('refuses a prompt that does not fit the context instead of silently truncating it', async () => {
    const long = 'The lungs are clear. '.repeat(2000);
    const err = await judge
      .complete({ messages: renderPrompt(defaultTemplate(), 'json', { reference: long, candidate: long }) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JudgeRequestError); // this report fails; the run goes on
    expect(String(err)).toMatch(/exceeds the 4096-token context/);
  });

  it('reports a file that is not a GGUF model clearly', async () => {
    const err = await ggufJudge({ modelPath: join(dir, 'missing.gguf') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JudgeFatalError);
    expect(String(err)).toMatch(/cannot load GGUF model .*missing\.gguf/);
  });
});
