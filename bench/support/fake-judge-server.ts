/**
 * A real HTTP server on loopback that speaks the Chat Completions protocol (POST /v1/chat/completions, JSON in
 * and out, OpenAI's error body and headers), so the judge client is tested through the actual SDK and socket.
 * Answers come from a function of the request; faults can be scripted per request: 429 with Retry-After, 5xx,
 * slow answers, dropped connections, malformed answers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatRequestBody {
  model: string;
  messages: { role: string; content: string }[];
  temperature?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  response_format?: { type: string; json_schema?: { schema: unknown } };
  seed?: number;
}

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; message?: string }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'reset' }
  | { kind: 'answer'; text: string };

export interface Received {
  body: ChatRequestBody;
  authorization: string | undefined;
  /** Azure's key header. */
  apiKey: string | undefined;
  path: string;
  at: number;
}

export interface FakeServerOptions {
  /** The normal answer to a request. */
  answer: (body: ChatRequestBody) => string;
  /** A fault for the n-th request (0-based, in arrival order), or undefined to answer normally. */
  fault?: (body: ChatRequestBody, n: number) => Fault | undefined;
}

export class FakeChatServer {
  readonly received: Received[] = [];
  private server?: Server;
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(private readonly options: FakeServerOptions) {}

  get url(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}/v1`;
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'POST' || !path.endsWith('/chat/completions')) {
      return send(res, 404, {
        error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' },
      });
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatRequestBody;
    const n = this.received.length;
    this.received.push({
      body,
      authorization: req.headers.authorization,
      apiKey: req.headers['api-key'] as string | undefined,
      path: req.url ?? path,
      at: Date.now(),
    });
    const fault = this.options.fault?.(body, n);
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      const headers: Record<string, string> =
        fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter };
      return send(
        res,
        fault.status,
        { error: { message: fault.message ?? `injected ${fault.status}`, type: 'server_error' } },
        headers,
      );
    }
    if (fault?.kind === 'slow') {
      await new Promise((r) => setTimeout(r, fault.delayMs));
      if (res.destroyed || req.socket.destroyed) return;
    }
    const text = fault?.kind === 'answer' ? fault.text : this.options.answer(body);
    send(res, 200, completion(body, text, n));
  }
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Rough token count for the usage block: one token per 4 characters, as OpenAI's rule of thumb. */
const approxTokens = (s: string) => Math.ceil(s.length / 4);

function completion(body: ChatRequestBody, text: string, n: number) {
  const promptTokens = approxTokens(body.messages.map((m) => m.content).join(''));
  const completionTokens = approxTokens(text);
  return {
    id: `chatcmpl-fake-${n}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: body.model,
    choices: [
      { index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop', logprobs: null },
    ],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  };
}

/** The last "REFERENCE:" / "CANDIDATE:" pair in the last user message (the worked examples come earlier). */
export function pairOf(body: ChatRequestBody): { reference: string; candidate: string } {
  const user = [...body.messages]
    .reverse()
    .find((m) => m.role === 'user' && m.content.includes('REFERENCE:'));
  const text = user?.content ?? '';
  const ref = text.lastIndexOf('REFERENCE:');
  const cand = text.lastIndexOf('CANDIDATE:');
  return { reference: text.slice(ref + 10, cand).trim(), candidate: text.slice(cand + 10).trim() };
}

const SIGNIFICANT_WORDS =
  /pneumothorax|effusion|consolidation|edema|pneumonia|mass|nodule|cardiomegaly|fracture|tube|line/i;

/**
 * A stand-in judge with a simple, deterministic opinion: a candidate sentence absent from the reference is a false
 * finding, a reference sentence absent from the candidate an omitted one; significant when it names a serious
 * finding. Answers in the list form, or JSON when the request asks for structured output.
 */
export function heuristicAnswer(body: ChatRequestBody): string {
  const { reference, candidate } = pairOf(body);
  const sentences = (s: string) =>
    new Set(
      s
        .toLowerCase()
        .split(/[.!?]\s*/)
        .map((x) => x.trim())
        .filter(Boolean),
    );
  const ref = sentences(reference);
  const cand = sentences(candidate);
  const sig = { A: 0, B: 0, C: 0, D: 0, E: 0, F: 0 };
  const insig = { ...sig };
  for (const s of cand) if (!ref.has(s)) (SIGNIFICANT_WORDS.test(s) ? sig : insig).A++;
  for (const s of ref) if (!cand.has(s)) (SIGNIFICANT_WORDS.test(s) ? sig : insig).B++;
  for (const c of [sig, insig])
    for (const k of Object.keys(c) as (keyof typeof c)[]) c[k] = Math.min(c[k], 20);
  if (body.response_format) return JSON.stringify({ significant: sig, insignificant: insig });
  const list = (c: typeof sig) =>
    `[${Object.entries(c)
      .map(([k, v]) => `(${k}, ${v})`)
      .join(', ')}]`;
  return `Clinically significant errors: ${list(sig)}\nClinically insignificant errors: ${list(insig)}`;
}
