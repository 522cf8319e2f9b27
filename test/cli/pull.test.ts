import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { openLlavaRad } from '../../src/weights/index.js';
import { cli, FIXTURES } from '../helpers.js';

const TINY = join(FIXTURES, 'oracle/tiny-a');
const COMMIT = 'c0ffee0000000000000000000000000000000001';
/** Local stand-ins for the hub repositories, laid out as the released ones. */
const REPOS: Record<string, string> = {
  'microsoft/llava-rad': join(TINY, 'llava-rad'),
  'lmsys/vicuna-7b-v1.5': join(TINY, 'vicuna-7b-v1.5-sharded'),
  'StanfordAIMI/RRG_scorers': join(FIXTURES, 'oracle/chexbert-tiny'),
  // the tiny CheXbert fixture carries the real bert-base-uncased vocab.txt beside a config.json
  'google-bert/bert-base-uncased': join(FIXTURES, 'oracle/chexbert-tiny'),
};
const LFS = /\.(bin|pt|pth|model)$/;
/** Time the client gets to store the first half before the server hangs up. */
const CUT_DELAY_MS = 100;

interface Seen {
  url: string;
  range?: string;
  auth?: string;
}

/** A hub in the Hugging Face URL layout, with faults to inject: cut a transfer, corrupt a file. */
class FakeHub {
  server!: Server;
  seen: Seen[] = [];
  interruptOnce = new Set<string>();
  corrupt = new Set<string>();
  /** Repositories that answer 401 without the right token. */
  gated = new Map<string, string>();

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    return new Promise((ok) => this.server.listen(0, '127.0.0.1', ok));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = decodeURIComponent(req.url ?? '');
    this.seen.push({ url, range: req.headers.range, auth: req.headers.authorization });
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^?]+)/.exec(url);
    const file = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url);
    const repo = api?.[1] ?? file?.[1] ?? '';
    if (this.gated.has(repo) && req.headers.authorization !== `Bearer ${this.gated.get(repo)}`)
      res.writeHead(401).end();
    else if (api) this.listing(res, api[1]!);
    else if (file && REPOS[file[1]!]) this.serve(req, res, file[1]!, file[3]!);
    else res.writeHead(404).end();
  }

  private listing(res: ServerResponse, repo: string): void {
    const dir = REPOS[repo];
    if (!dir) return void res.writeHead(404).end();
    const siblings = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isFile())
      .map(({ name }) => {
        const bytes = readFileSync(join(dir, name));
        if (LFS.test(name)) {
          const sha256 = createHash('sha256').update(bytes).digest('hex');
          return {
            rfilename: name,
            size: 134,
            blobId: 'pointer',
            lfs: { sha256, size: bytes.length, pointerSize: 134 },
          };
        }
        const blobId = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
        return { rfilename: name, size: bytes.length, blobId };
      });
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ id: repo, sha: COMMIT, siblings }));
  }

  private serve(req: IncomingMessage, res: ServerResponse, repo: string, name: string): void {
    let bytes: Buffer = readFileSync(join(REPOS[repo]!, name));
    if (this.corrupt.has(name)) {
      bytes = Buffer.from(bytes);
      bytes[bytes.length >> 1] ^= 0xff;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const body = bytes.subarray(start);
    const headers = { 'content-length': String(body.length), 'accept-ranges': 'bytes' };
    if (range) {
      res.writeHead(206, {
        ...headers,
        'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}`,
      });
    } else {
      res.writeHead(200, headers);
    }
    if (this.interruptOnce.delete(name)) {
      // send half of the body, let it arrive, then close the connection early
      res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.socket?.end(), CUT_DELAY_MS));
      return;
    }
    res.end(body);
  }
}

const hub = new FakeHub();
let dir: string;
beforeAll(() => hub.start());
afterAll(() => new Promise<void>((ok) => hub.server.close(() => ok())));
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cxr-pull-'));
  hub.seen = [];
  hub.interruptOnce.clear();
  hub.corrupt.clear();
  hub.gated.clear();
  return () => rmSync(dir, { recursive: true, force: true });
});

const pull = (...args: string[]) =>
  cli(['pull', ...args, '--dir', dir, '--endpoint', hub.url], { HF_TOKEN: 'hf_test' });
const sameBytes = (a: string, b: string) => Buffer.compare(readFileSync(a), readFileSync(b)) === 0;

describe('cxr pull', () => {
  it('shows the licence notice and downloads nothing until it is accepted', async () => {
    const r = await pull('llava-rad');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('research use only');
    expect(r.stderr).toContain('--accept-licence');
    expect(hub.seen).toEqual([]);
  });

  it('downloads llava-rad + vicuna, resumes a cut transfer with Range, and the result opens', async () => {
    hub.interruptOnce.add('adapter_model.bin');
    const r = await pull('llava-rad', '--accept-licence');
    expect(r.stderr).toContain('adapter_model.bin: downloading');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`microsoft/llava-rad@${COMMIT}: 6 downloaded`);
    expect(r.stdout).toContain(`lmsys/vicuna-7b-v1.5@${COMMIT}: 8 downloaded`);
    const size = readFileSync(join(TINY, 'llava-rad/adapter_model.bin')).length;
    const ranges = hub.seen.filter((s) => s.url.endsWith('/adapter_model.bin')).map((s) => s.range);
    expect(ranges).toHaveLength(2);
    expect(ranges[0]).toBeUndefined();
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(size >> 1);
    expect(hub.seen.every((s) => s.auth === 'Bearer hf_test')).toBe(true);
    expect(
      sameBytes(join(dir, 'llava-rad/adapter_model.bin'), join(TINY, 'llava-rad/adapter_model.bin')),
    ).toBe(true);
    expect(existsSync(join(dir, 'llava-rad/adapter_model.bin.incomplete'))).toBe(false);
    const w = await openLlavaRad({ llavaDir: join(dir, 'llava-rad'), baseDir: join(dir, 'vicuna-7b-v1.5') });
    expect(w.language.info('model.layers.0.self_attn.q_proj.weight').shape).toEqual([128, 128]);
    await w.close();

    // a second run asks no licence question, re-downloads nothing and fetches the recorded commit
    hub.seen = [];
    const again = await pull('llava-rad');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('0 downloaded, 6 already present');
    expect(hub.seen.map((s) => s.url)).toEqual([
      `/api/models/microsoft/llava-rad/revision/${COMMIT}?blobs=true`,
      `/api/models/lmsys/vicuna-7b-v1.5/revision/${COMMIT}?blobs=true`,
    ]);
  });

  it('a run cut short keeps the partial file and the next run resumes it', async () => {
    hub.interruptOnce.add('chexbert.pth');
    const first = await pull('chexbert', '--accept-licence', '--attempts', '1');
    expect(first.code).toBe(2);
    expect(first.stderr).toContain('interrupted; run the same command again to resume');
    const part = join(dir, 'chexbert/chexbert.pth.incomplete');
    const size = readFileSync(join(REPOS['StanfordAIMI/RRG_scorers']!, 'chexbert.pth')).length;
    // what arrived before the cut (at most the half sent) is kept
    const kept = readFileSync(part).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(size >> 1);
    const second = await pull('chexbert');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('resuming at');
    const resumed = hub.seen.filter((s) => s.url.endsWith('/chexbert.pth'));
    expect(resumed.at(-1)!.range).toBe(`bytes=${kept}-`);
    expect(
      sameBytes(join(dir, 'chexbert/chexbert.pth'), join(REPOS['StanfordAIMI/RRG_scorers']!, 'chexbert.pth')),
    ).toBe(true);
    // BERT's vocabulary lands beside the checkpoint, where the labeler looks for it, each repo pinned on its own.
    expect(sameBytes(join(dir, 'chexbert/vocab.txt'), join(FIXTURES, 'oracle/chexbert-tiny/vocab.txt'))).toBe(
      true,
    );
    const third = await pull('chexbert');
    expect(third.code, third.stderr).toBe(0);
    expect(hub.seen.filter((s) => s.url.startsWith('/api/')).at(-1)!.url).toContain(`revision/${COMMIT}`);
  });

  it('detects a corrupted file by its sha256 and discards it', async () => {
    hub.corrupt.add('chexbert.pth');
    const r = await pull('chexbert', '--accept-licence');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /chexbert\.pth: sha256 does not match the hub's; the download was discarded; expected [0-9a-f]{64}; found [0-9a-f]{64}/,
    );
    expect(readdirSync(join(dir, 'chexbert')).filter((f) => !f.startsWith('.'))).toEqual([]);
  });

  it('detects a corrupted small file by its git blob id', async () => {
    hub.corrupt.add('config.json');
    const r = await pull('llava-rad', '--accept-licence');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('config.json: git blob sha1 does not match');
  });

  it('names an unknown target and a file the repository lacks', async () => {
    const r = await pull('gpt5');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('llava-rad | chexbert');
    const mirror = await pull(
      'chexbert',
      '--accept-licence',
      '--repo',
      'StanfordAIMI/RRG_scorers=microsoft/llava-rad',
    );
    expect(mirror.code).toBe(2);
    expect(mirror.stderr).toContain('chexbert.pth');
    expect(mirror.stderr).toContain('has no such file');
  });

  it('a --dir that is a file is exit 2 naming it, not an internal error', async () => {
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, '');
    const r = await cli(['pull', 'chexbert', '--accept-licence', '--dir', file, '--endpoint', hub.url]);
    expect(r.stderr).toContain(`${file}: cannot write into the download folder`);
    expect(r.code).toBe(2);
  });

  it('--revision overrides the pinned revision', async () => {
    writeFileSync(join(dir, 'unused'), '');
    const r = await pull('chexbert', '--accept-licence', '--revision', 'StanfordAIMI/RRG_scorers=v2');
    expect(r.code, r.stderr).toBe(0);
    expect(hub.seen[0]!.url).toBe('/api/models/StanfordAIMI/RRG_scorers/revision/v2?blobs=true');
  });

  it('draws a progress bar on a terminal', async () => {
    let stderr = '';
    const io = {
      stdout: () => {},
      stderr: (t: string) => {
        stderr += t;
      },
      isTTY: true,
      env: {},
      cwd: dir,
    };
    const code = await runCli(['pull', 'chexbert', '--accept-licence', '--endpoint', hub.url], io);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/\rchexbert\.pth \[#{30}\] 100% 8\.3 MB\/8\.3 MB\n/);
    expect(existsSync(join(dir, 'models/chexbert/chexbert.pth'))).toBe(true);
  });

  it('a gated repository without the right HF_TOKEN says how to get access', async () => {
    hub.gated.set('StanfordAIMI/RRG_scorers', 'hf_right');
    const r = await pull('chexbert', '--accept-licence');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("access denied; accept the model's terms on the hub and set HF_TOKEN");
    const ok = await cli(['pull', 'chexbert', '--dir', dir, '--endpoint', hub.url], { HF_TOKEN: 'hf_right' });
    expect(ok.code, ok.stderr).toBe(0);
  });
});
