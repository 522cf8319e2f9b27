/**
 * Hugging Face hub downloads: the file list and checksums come from the hub API
 * (`/api/models/{repo}/revision/{rev}?blobs=true`: size, LFS sha256, git blob id), the bytes from
 * `/{repo}/resolve/{rev}/{file}`. Transfers go to `FILE.incomplete`, resume with HTTP Range after an
 * interruption (in the same run or the next), and are renamed into place only after the size and
 * the sha256 (LFS files) or git blob sha1 (small files) match.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { inputError, isCxrError } from '../errors.js';

export const HF_ENDPOINT = 'https://huggingface.co';
/** Attempts per file; each retry resumes where the previous one stopped. */
export const DEFAULT_ATTEMPTS = 4;
const LOCK_FILE = '.cxr-pull.json';
/** A transfer that receives nothing for this long is dropped and resumed. */
export const DEFAULT_STALL_MS = 60_000;

export interface HubFile {
  path: string;
  size: number;
  /** sha256 of LFS files (the LFS oid). */
  sha256?: string;
  /** git blob sha1 of small (non-LFS) files. */
  gitSha1?: string;
}

export interface HubRepo {
  repo: string;
  revision: string;
  /** The commit the revision resolved to. */
  commit: string;
  files: HubFile[];
}

export interface HubProgress {
  file: string;
  received: number;
  total: number;
  /** Bytes that were already on disk when this transfer started (resumed). */
  resumedFrom: number;
  done: boolean;
}

export interface HubOptions {
  endpoint?: string;
  /** Sent as a bearer token (gated or private repositories). */
  token?: string;
  attempts?: number;
  stallTimeoutMs?: number;
  onProgress?: (p: HubProgress) => void;
  fetch?: typeof fetch;
}

function authHeaders(opts: HubOptions): Record<string, string> {
  return opts.token ? { authorization: `Bearer ${opts.token}` } : {};
}

function endpoint(opts: HubOptions): string {
  return (opts.endpoint ?? HF_ENDPOINT).replace(/\/+$/, '');
}

const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');

/** The file list of `repo` at `revision`, with sizes and checksums. */
export async function listRepo(repo: string, revision: string, opts: HubOptions = {}): Promise<HubRepo> {
  const url = `${endpoint(opts)}/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`;
  const res = await hubFetch(url, { headers: authHeaders(opts) }, opts, `${repo}@${revision}`);
  const body = (await res.json()) as {
    sha?: string;
    siblings?: {
      rfilename: string;
      size?: number;
      blobId?: string;
      lfs?: { sha256?: string; oid?: string; size?: number };
    }[];
  };
  if (!Array.isArray(body.siblings)) {
    throw inputError('hub.bad_response', 'the hub answered without a file list', {
      file: url,
      field: 'siblings',
    });
  }
  const files = body.siblings.map((s) => ({
    path: s.rfilename,
    size: s.lfs?.size ?? s.size ?? -1,
    sha256: s.lfs?.sha256 ?? s.lfs?.oid,
    gitSha1: s.lfs ? undefined : s.blobId,
  }));
  return { repo, revision, commit: body.sha ?? revision, files };
}

async function hubFetch(url: string, init: RequestInit, opts: HubOptions, what: string): Promise<Response> {
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(url, { ...init, redirect: 'follow' });
  } catch (e) {
    throw inputError('hub.unreachable', `cannot reach the hub (${(e as Error).message})`, {
      file: url,
      cause: e,
    });
  }
  if (res.status === 401 || res.status === 403) {
    throw inputError(
      'hub.unauthorized',
      `${what}: access denied; accept the model's terms on the hub and set HF_TOKEN`,
      {
        file: url,
        found: `HTTP ${res.status}`,
      },
    );
  }
  if (res.status === 404) throw inputError('hub.not_found', `${what} not found on the hub`, { file: url });
  if (!res.ok && res.status !== 206 && res.status !== 416) {
    throw inputError('hub.http', `${what}: the hub answered HTTP ${res.status}`, { file: url });
  }
  return res;
}

/** Download `files` of `repo` into `destDir` (resuming, verifying); files already verified are skipped. */
export async function downloadRepo(
  hubRepo: HubRepo,
  wanted: readonly string[],
  destDir: string,
  opts: HubOptions = {},
): Promise<{ downloaded: string[]; present: string[] }> {
  await mkdir(destDir, { recursive: true });
  const lock = await readLock(destDir);
  const out = { downloaded: [] as string[], present: [] as string[] };
  for (const name of wanted) {
    const file = hubRepo.files.find((f) => f.path === name);
    if (!file) {
      throw inputError('hub.missing_file', `${hubRepo.repo}@${hubRepo.revision} has no such file`, {
        field: name,
      });
    }
    const dest = join(destDir, name);
    if (await alreadyVerified(dest, file, lock[name])) {
      out.present.push(name);
      continue;
    }
    const url = `${endpoint(opts)}/${hubRepo.repo}/resolve/${encodeURIComponent(hubRepo.commit)}/${encodePath(name)}`;
    await downloadFile(url, dest, file, opts);
    const s = await stat(dest);
    lock[name] = {
      size: s.size,
      mtimeMs: s.mtimeMs,
      sha256: file.sha256,
      gitSha1: file.gitSha1,
      commit: hubRepo.commit,
    };
    await writeFile(join(destDir, LOCK_FILE), `${JSON.stringify(lock, null, 2)}\n`);
    out.downloaded.push(name);
  }
  return out;
}

interface LockEntry {
  size: number;
  mtimeMs: number;
  sha256?: string;
  gitSha1?: string;
  commit: string;
}

async function readLock(dir: string): Promise<Record<string, LockEntry>> {
  try {
    return JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8'));
  } catch {
    return {};
  }
}

/**
 * The commit `files` were downloaded from, as recorded by a previous pull (the local pin). A folder may hold
 * files of several repositories (CheXbert's checkpoint beside BERT's vocabulary), so only `files` count.
 */
export async function lockedCommit(dir: string, files?: readonly string[]): Promise<string | undefined> {
  const lock = await readLock(dir);
  const entries = files ? files.flatMap((f) => (lock[f] ? [lock[f]] : [])) : Object.values(lock);
  const commits = new Set(entries.map((e) => e.commit));
  return commits.size === 1 ? [...commits][0] : undefined;
}

/** A file verified by an earlier pull and untouched since (same size and mtime) is not hashed again. */
async function alreadyVerified(dest: string, file: HubFile, entry: LockEntry | undefined): Promise<boolean> {
  try {
    const s = await stat(dest);
    if (!entry || s.size !== file.size || s.size !== entry.size || s.mtimeMs !== entry.mtimeMs) return false;
    return entry.sha256 === file.sha256 && entry.gitSha1 === file.gitSha1;
  } catch {
    return false;
  }
}

async function downloadFile(url: string, dest: string, file: HubFile, opts: HubOptions): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const part = `${dest}.incomplete`;
  const attempts = opts.attempts ?? DEFAULT_ATTEMPTS;
  for (let attempt = 1; ; attempt++) {
    try {
      await transfer(url, part, file, opts);
      break;
    } catch (e) {
      // a dropped or stalled connection is retried from where it stopped; checksum and HTTP errors are final
      const retryable = !isCxrError(e) || e.code === 'hub.unreachable';
      if (!retryable || attempt >= attempts) throw interrupted(e, dest, file);
    }
  }
  await verify(part, dest, file);
  await rename(part, dest);
}

function interrupted(e: unknown, dest: string, file: HubFile): unknown {
  if (isCxrError(e) && e.code !== 'hub.unreachable') return e;
  return inputError('hub.interrupted', 'download interrupted; run the same command again to resume', {
    file: dest,
    expected: `${file.size} bytes`,
    cause: e,
  });
}

/** One HTTP transfer into `part`, continuing from its current length when the server honours Range. */
async function transfer(url: string, part: string, file: HubFile, opts: HubOptions): Promise<void> {
  let have = await sizeOf(part);
  if (have > file.size) {
    await rm(part, { force: true });
    have = 0;
  }
  if (have === file.size && file.size > 0) return;
  const headers: Record<string, string> = { ...authHeaders(opts) };
  if (have > 0) headers.range = `bytes=${have}-`;
  const stall = new AbortController();
  const stallMs = opts.stallTimeoutMs ?? DEFAULT_STALL_MS;
  let timer = setTimeout(() => stall.abort(), stallMs);
  let fd: FileHandle | undefined;
  try {
    const res = await hubFetch(url, { headers, signal: stall.signal }, opts, file.path);
    const resumed = res.status === 206 && contentRangeStart(res) === have;
    if (!resumed) have = 0; // the server sent the whole file: start over
    fd = await open(part, resumed ? 'a' : 'w');
    let received = have;
    const progress = (done: boolean) =>
      opts.onProgress?.({
        file: file.path,
        received,
        total: file.size,
        resumedFrom: resumed ? have : 0,
        done,
      });
    progress(false);
    if (res.body) {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        clearTimeout(timer);
        timer = setTimeout(() => stall.abort(), stallMs);
        await fd.write(chunk);
        received += chunk.length;
        progress(false);
      }
    }
    if (received !== file.size) throw new Error(`connection closed after ${received} of ${file.size} bytes`);
    progress(true);
  } finally {
    clearTimeout(timer);
    await fd?.close();
  }
}

function contentRangeStart(res: Response): number | undefined {
  const m = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
  return m ? Number(m[1]) : undefined;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** Size, then sha256 (LFS) or git blob sha1; a mismatch removes the partial file so the next run starts clean. */
async function verify(part: string, dest: string, file: HubFile): Promise<void> {
  const size = await sizeOf(part);
  const fail = async (what: string, expected: string, found: string) => {
    await rm(part, { force: true });
    throw inputError('hub.checksum', `${what} does not match the hub's; the download was discarded`, {
      file: dest,
      expected,
      found,
    });
  };
  if (size !== file.size) await fail('size', String(file.size), String(size));
  if (file.sha256) {
    const found = await hashFile(part, createHash('sha256'));
    if (found !== file.sha256) await fail('sha256', file.sha256, found);
  } else if (file.gitSha1) {
    const h = createHash('sha1').update(`blob ${size}\0`);
    const found = await hashFile(part, h);
    if (found !== file.gitSha1) await fail('git blob sha1', file.gitSha1, found);
  }
}

async function hashFile(path: string, hash: Hash): Promise<string> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
