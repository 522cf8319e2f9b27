import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChatRequestBody,
  FakeChatServer,
  type Fault,
  heuristicAnswer,
  pairOf,
} from '../../bench/support/fake-judge-server.js';
import { cli, DATA } from '../helpers.js';
import { writeTinyLlama } from '../judge/tiny-llama.js';

const N = 40;
let dir: string;
let predFile: string;
let refFile: string;
let server: FakeChatServer | undefined;

/** Real Open-I findings: every third candidate is the reference itself, the others another report's findings. */
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cxr-chexprompt-cli-'));
  const reports = readFileSync(join(DATA, 'iu-xray', 'reports.dev.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { uid: number; findings: string | null })
    .filter((r) => r.findings)
    .slice(0, N + 1);
  predFile = join(dir, 'pred.jsonl');
  refFile = join(dir, 'ref.jsonl');
  const preds = reports
    .slice(0, N)
    .map((r, i) => ({ id: String(r.uid), prediction: i % 3 === 0 ? r.findings : reports[i + 1]!.findings }));
  writeFileSync(predFile, preds.map((p) => JSON.stringify(p)).join('\n'));
  writeFileSync(
    refFile,
    reports
      .slice(0, N)
      .map((r) => JSON.stringify({ id: String(r.uid), reference: r.findings }))
      .join('\n'),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** Each kind of fault once, early in the run. */
function injected(): (body: ChatRequestBody, n: number) => Fault | undefined {
  const script: Record<number, Fault> = {
    0: { kind: 'status', status: 429, retryAfter: '1' },
    3: { kind: 'status', status: 500 },
    5: { kind: 'reset' },
    7: { kind: 'slow', delayMs: 1_500 },
    9: { kind: 'answer', text: 'Sorry, I am not sure.' },
    11: { kind: 'status', status: 503, retryAfter: '0' },
  };
  return (_b, n) => script[n];
}

async function run(url: string, extra: string[] = [], env: Record<string, string> = {}) {
  return cli(
    [
      'chexprompt',
      '--pred',
      predFile,
      '--ref',
      refFile,
      '--judge',
      `${url}#fake-judge`,
      '--cache',
      join(dir, 'cache.sqlite'),
      '--timeout',
      '1',
      '--json',
      ...extra,
    ],
    env,
  );
}

describe('cxr chexprompt', () => {
  it('judges real report pairs through injected faults, loses nothing, then reruns from the cache', async () => {
    server = await new FakeChatServer({ answer: heuristicAnswer, fault: injected() }).start();
    const perReport = join(dir, 'per-report.jsonl');
    const first = await run(server.url, ['--per-report', perReport, '--concurrency', '3'], {
      CXR_JUDGE_API_KEY: 'sk-local-secret',
    });
    expect(first.stderr).not.toContain('sk-local-secret');
    expect(first.code, first.stderr).toBe(0);
    const doc = JSON.parse(first.stdout);
    expect(doc).toMatchObject({ reports: N, scored: N, failed: 0 });
    expect(doc.scheduler).toMatchObject({
      rateLimited: 1,
      serverErrors: 2,
      connectionErrors: 1,
      timeouts: 1,
    });
    expect(doc.usage.calls).toBe(N + 1); // one unreadable answer asked again
    expect(server.received.every((r) => r.authorization === 'Bearer sk-local-secret')).toBe(true);
    expect(doc.signature).toMatch(
      /^chexprompt:1\|judge:http@http:\/\/127\.0\.0\.1:\d+\/v1\|model:fake-judge\|prompt:[0-9a-f]{12}\|format:list/,
    );

    // Identical pairs have no error; the per-report file agrees with the judge's answers.
    const rows = readFileSync(perReport, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(N);
    for (const [i, row] of rows.entries()) {
      expect(row.status).toBe('ok');
      if (i % 3 === 0) expect(row.total).toBe(0);
      expect(row.total).toBe(row.total_significant + row.total_insignificant);
    }
    const meanTotal = rows.reduce((s, r) => s + r.total, 0) / N;
    expect(doc.metrics.mean_total.value).toBeCloseTo(meanTotal, 12);
    expect(doc.metrics.share_no_error.value).toBeCloseTo(rows.filter((r) => r.total === 0).length / N, 12);
    const [lo, hi] = doc.metrics.mean_total.ci;
    expect(lo).toBeLessThan(meanTotal);
    expect(hi).toBeGreaterThan(meanTotal);

    const port = Number(new URL(server.url).port);
    await server.stop();
    server = await new FakeChatServer({ answer: heuristicAnswer }).start(port);
    const again = await run(server.url);
    expect(again.code, again.stderr).toBe(0);
    const doc2 = JSON.parse(again.stdout);
    expect(server.received).toHaveLength(0);
    expect(doc2.usage).toMatchObject({ calls: 0, cacheHits: N });
    expect(doc2.metrics).toEqual(doc.metrics);
  });

  it('counts an answer it cannot read as a failure with the raw text, and prints a table', async () => {
    const badCandidate = (body: ChatRequestBody) =>
      pairOf(body).candidate.startsWith('The cardiac silhouette');
    server = await new FakeChatServer({
      answer: heuristicAnswer,
      fault: (body) => (badCandidate(body) ? { kind: 'answer', text: 'No idea.' } : undefined),
    }).start();
    const perReport = join(dir, 'failures.jsonl');
    const r = await cli([
      'chexprompt',
      '--pred',
      predFile,
      '--ref',
      refFile,
      '--judge',
      `${server.url}#m2`,
      '--no-cache',
      '--per-report',
      perReport,
      '--parse-retries',
      '1',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const failedRows = readFileSync(perReport, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((x) => x.status === 'failed');
    expect(failedRows.length).toBeGreaterThan(0);
    for (const f of failedRows) expect(f).toMatchObject({ attempts: 2, raw: ['No idea.', 'No idea.'] });
    expect(r.stdout).toContain(
      `${N} reports: ${N - failedRows.length} scored, ${failedRows.length} failed (${failedRows.length} unparseable; not counted as zero errors`,
    );
    expect(r.stdout).toMatch(/mean_significant\s+\d\.\d{4}\s+\[\d\.\d{4}, \d\.\d{4}\]/);
    expect(r.stdout).toMatch(/share_no_error/);
    expect(r.stdout).toMatch(/signature: chexprompt:1\|/);
  });

  it('uses a --prompt-file template and puts its hash in the signature', async () => {
    server = await new FakeChatServer({ answer: heuristicAnswer }).start();
    const file = join(dir, 'prompt.txt');
    writeFileSync(
      file,
      '[[user]]\nCount errors.\n{{output_format}}\nREFERENCE: {{reference}}\nCANDIDATE: {{candidate}}\n',
    );
    const base = ['--pred', predFile, '--ref', refFile, '--judge', `${server.url}#m`, '--no-cache', '--json'];
    const mine = JSON.parse((await cli(['chexprompt', ...base, '--prompt-file', file])).stdout);
    const ours = JSON.parse((await cli(['chexprompt', ...base])).stdout);
    expect(server.received[0]!.body.messages).toHaveLength(1);
    expect(server.received[0]!.body.messages[0]!.content).toMatch(
      /^Count errors\.\nAnswer with exactly these two lines/,
    );
    expect(mine.prompt_hash).not.toBe(ours.prompt_hash);
    expect(mine.signature).toContain(`prompt:${mine.prompt_hash}`);
  });

  it('judges with a local GGUF model through --judge gguf:PATH, JSON answers under a grammar', async () => {
    const model = writeTinyLlama(join(dir, 'tiny.gguf'));
    const few = join(dir, 'few.jsonl');
    const lines = readFileSync(predFile, 'utf8').split('\n').slice(0, 2);
    writeFileSync(few, lines.join('\n'));
    const args = [
      'chexprompt',
      '--pred',
      few,
      '--ref',
      refFile,
      '--judge',
      `gguf:${model}`,
      '--threads',
      '1',
      '--cache',
      join(dir, 'gguf.sqlite'),
      '--json',
    ];
    const r = await cli(args);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ reports: 2, scored: 2, failed: 0 });
    expect(doc.signature).toMatch(
      /judge:gguf@tiny\.gguf:\d+\|model:.*tiny\.gguf\|prompt:[0-9a-f]{12}\|format:json\|/,
    );
    expect(r.stderr).toMatch(/warning: \d+ ids only in .*ref\.jsonl/);
    const again = JSON.parse((await cli(args)).stdout);
    expect(again.usage).toMatchObject({ calls: 0, cacheHits: 2 });
  });

  it('exits 2 with a clear message on bad input', async () => {
    const cases: [string[], RegExp][] = [
      [['--pred', predFile, '--ref', refFile], /--judge: a judge is needed/],
      [
        ['--pred', predFile, '--ref', refFile, '--judge', 'claude:x'],
        /--judge: unknown judge; expected openai:MODEL/,
      ],
      [
        ['--pred', predFile, '--ref', refFile, '--judge', 'gguf:/no/such.gguf'],
        /\/no\/such\.gguf: cannot read the GGUF model/,
      ],
      [
        ['--pred', predFile, '--ref', refFile, '--judge', `gguf:${refFile}`, '--no-cache'],
        /ref\.jsonl: not a GGUF model file; expected a file starting with "GGUF"; found "\{\\"id"/,
      ],
      [
        ['--pred', predFile, '--ref', refFile, '--judge', 'azure:dep', '--no-cache'],
        /--azure-endpoint: an Azure judge needs/,
      ],
      [
        ['--pred', predFile, '--ref', refFile, '--judge', 'openai:x', '--answer-format', 'xml'],
        /--answer-format: unknown answer format/,
      ],
      [
        ['--pred', predFile, '--ref', refFile, '--judge', 'openai:x', '--price', '3'],
        /--price: expected two prices/,
      ],
      [
        ['--pred', predFile, '--ref', refFile, '--judge', 'openai:x', '--prompt-file', join(dir, 'none.txt')],
        /none\.txt: cannot read/,
      ],
      [['--pred', join(dir, 'missing.jsonl'), '--ref', refFile, '--judge', 'openai:x'], /missing\.jsonl/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(['chexprompt', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('fails (exit 1) when the judge scores nothing, and stops early when it cannot be reached', async () => {
    const port = await closedPort();
    const judge = `http://127.0.0.1:${port}/v1#m`;
    const few = join(dir, 'few.jsonl');
    writeFileSync(few, `${readFileSync(predFile, 'utf8').trim().split('\n').slice(0, 3).join('\n')}\n`);
    const quick = ['--judge', judge, '--no-cache', '--retries', '0', '--concurrency', '1'];
    const r = await cli(['chexprompt', '--pred', few, '--ref', refFile, ...quick]);
    expect(r.stdout).toContain('0 scored, 3 failed');
    expect(r.stderr).toContain('no report was scored');
    expect(r.code).toBe(1);
    // cxr eval must not print a table without the metric the user asked for.
    const e = await cli(['eval', '--pred', few, '--ref', refFile, '--metrics', 'bleu4,chexprompt', ...quick]);
    expect(e.stderr).toContain('chexprompt: no report was scored');
    expect(e.code).toBe(1);
    // Many pairs: the run stops after the first failures instead of trying every one.
    const all = await cli(['chexprompt', '--pred', predFile, '--ref', refFile, ...quick]);
    expect(all.stderr).toMatch(/the judge failed the first 10 requests; the last: judge error/);
    expect(all.code).toBe(1);
    expect(all.stderr).not.toMatch(/\n\s+at /); // worded, not a stack trace
  });
});

/** A local port nothing listens on: connections to it are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}
