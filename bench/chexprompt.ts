/**
 * `npm run bench -- chexprompt [--n N] [--concurrency N] [--json]`: a full CheXprompt run over the Open-I dev
 * reports against the loopback Chat Completions server of the test suite, with injected faults, then the same
 * run again from the cache, then an outage mid-run and the resume that follows. Reports reports/s, retries by
 * kind, failures and cache hits. The judge is a deterministic stand-in: the numbers measure the machinery, not
 * a model's opinion.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runCli } from '../src/cli/main.js';
import {
  type ChatRequestBody,
  FakeChatServer,
  type Fault,
  heuristicAnswer,
} from './support/fake-judge-server.js';
import { DATA } from './support/paths.js';

const REPORTS = join(DATA, 'iu-xray', 'reports.dev.jsonl');
/** Candidates are the reference itself for every IDENTICAL_EVERY-th report, another report's findings otherwise. */
const IDENTICAL_EVERY = 3;
const OTHER_REPORT_OFFSET = 7;
const TIMEOUT_S = 2;

/** Deterministic faults by request number: each kind at a fixed rate. */
function faultsAt(n: number): Fault | undefined {
  // A 429's Retry-After pauses every request (as a real rate limit would want), so it is the rarest fault.
  if (n % 400 === 1) return { kind: 'status', status: 429, retryAfter: '1' };
  if (n % 37 === 2) return { kind: 'status', status: 500 };
  if (n % 61 === 3) return { kind: 'reset' };
  if (n % 97 === 4) return { kind: 'slow', delayMs: (TIMEOUT_S + 1) * 1000 };
  if (n % 43 === 5)
    return { kind: 'answer', text: 'The candidate seems broadly consistent with the reference.' };
  return undefined;
}

interface RunDoc {
  reports: number;
  scored: number;
  failed: number;
  seconds: number;
  usage: { calls: number; cacheHits: number; promptTokens: number; completionTokens: number };
  scheduler: Record<string, number>;
  metrics: Record<string, { value: number; ci: [number, number] }>;
}

async function cxr(args: string[]): Promise<RunDoc> {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    isTTY: false,
    env: {},
    cwd: process.cwd(),
  });
  if (code !== 0) throw new Error(`cxr ${args.join(' ')} exited ${code}: ${err}`);
  return JSON.parse(out) as RunDoc;
}

function writePairs(dir: string, n: number): { pred: string; ref: string; count: number } {
  const reports = readFileSync(REPORTS, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { uid: number; findings: string | null })
    .filter((r): r is { uid: number; findings: string } => Boolean(r.findings))
    .slice(0, n);
  const pred = join(dir, 'pred.jsonl');
  const ref = join(dir, 'ref.jsonl');
  const candidate = (i: number) =>
    i % IDENTICAL_EVERY === 0
      ? reports[i]!.findings
      : reports[(i + OTHER_REPORT_OFFSET) % reports.length]!.findings;
  writeFileSync(
    pred,
    reports.map((r, i) => JSON.stringify({ id: String(r.uid), prediction: candidate(i) })).join('\n'),
  );
  writeFileSync(
    ref,
    reports.map((r) => JSON.stringify({ id: String(r.uid), reference: r.findings })).join('\n'),
  );
  return { pred, ref, count: reports.length };
}

function line(phase: string, d: RunDoc, requests: number): string {
  const s = d.scheduler;
  return [
    phase.padEnd(22),
    `${d.reports} reports`,
    `${d.failed} failed`,
    `${(d.reports / d.seconds).toFixed(1)} reports/s`,
    `${d.seconds.toFixed(1)} s`,
    `server requests ${requests}`,
    `calls ${d.usage.calls}`,
    `cache hits ${d.usage.cacheHits}`,
    `retries ${s.retries} (429 ${s.rateLimited}, 5xx ${s.serverErrors}, timeout ${s.timeouts}, conn ${s.connectionErrors})`,
  ].join(' | ');
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      n: { type: 'string', default: '100000' },
      concurrency: { type: 'string', default: '8' },
      json: { type: 'boolean' },
    },
  });
  const dir = mkdtempSync(join(tmpdir(), 'cxr-bench-chexprompt-'));
  const { pred, ref, count } = writePairs(dir, Number(values.n));
  const cache = join(dir, 'answers.sqlite');
  let outage = false;
  const server = await new FakeChatServer({
    answer: heuristicAnswer,
    fault: (_b: ChatRequestBody, n: number) => (outage ? { kind: 'reset' } : faultsAt(n)),
  }).start();
  const base = [
    'chexprompt',
    '--pred',
    pred,
    '--ref',
    ref,
    '--judge',
    `${server.url}#stand-in-judge`,
    '--json',
    '--quiet',
  ];
  const common = [...base, '--concurrency', values.concurrency!, '--timeout', String(TIMEOUT_S)];
  const rows: [string, RunDoc, number][] = [];
  const phase = async (name: string, args: string[]) => {
    const before = server.received.length;
    rows.push([name, await cxr(args), server.received.length - before]);
  };
  try {
    await phase('faults, empty cache', [...common, '--cache', cache]);
    await phase('rerun, warm cache', [...common, '--cache', cache]);
    // An outage after 40% of the pairs: every later request is dropped, retried once, then recorded as failed.
    const outageCache = join(dir, 'outage.sqlite');
    const startedAt = server.received.length;
    const watch = setInterval(() => {
      if (server.received.length - startedAt >= count * 0.4) outage = true;
    }, 5);
    await phase('outage mid-run', [...common, '--cache', outageCache, '--retries', '1']);
    clearInterval(watch);
    outage = false;
    await phase('resume after outage', [...common, '--cache', outageCache]);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify(
        rows.map(([name, d, requests]) => ({ name, requests, ...d })),
        null,
        2,
      )}\n`,
    );
    return;
  }
  process.stdout.write(
    `CheXprompt machinery over ${count} Open-I pairs (loopback stand-in judge, concurrency ${values.concurrency})\n`,
  );
  for (const [name, d, requests] of rows) process.stdout.write(`${line(name, d, requests)}\n`);
  const m = rows[0]![1].metrics;
  process.stdout.write(
    `first run: mean_total ${m.mean_total!.value.toFixed(4)} [${m.mean_total!.ci.map((x) => x.toFixed(4)).join(', ')}], share_no_error ${m.share_no_error!.value.toFixed(4)}\n`,
  );
}
