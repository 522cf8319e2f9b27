/**
 * The cxr model bundle: one folder holding everything `cxr findings` needs, made by `cxr import` from the
 * released layout (SPEC.md §4).
 *
 *   BUNDLE/
 *     vision.onnx, embed.onnx, decoder.onnx (+ their external data)   the graphs (sessions.ts: saveGraphs)
 *     graphs.json                                                     the graph spec (sessions.ts)
 *     tokenizer.model [tokenizer_config.json special_tokens_map.json] copied from the base
 *     config.json                                                     the resolved LLaVA-Rad config + dtype
 *     manifest.json                                                   every other file's size and sha256
 *
 * Import writes into a sibling temporary folder and renames it into place, so a bundle is either complete or
 * absent; tensors are read, converted and written one at a time. Loading checks the manifest: sizes always,
 * sha256 of a file whenever its size or mtime differ from the last verification (kept in `.verified.json`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { inputError } from '../errors.js';
import { KV_KEYS, type KvKeys } from '../models/index.js';
import { INT4_BLOCK_SIZES, type Int4BlockSize } from '../onnx/index.js';
import { type LlavaRadConfig, openLlavaRad } from '../weights/index.js';
import { saveGraphs } from './sessions.js';

export type BundleDtype = 'fp32' | 'fp16' | 'int8' | 'int4';
export const BUNDLE_DTYPES: readonly BundleDtype[] = ['fp32', 'fp16', 'int8', 'int4'];

export const BUNDLE_FILES = {
  manifest: 'manifest.json',
  config: 'config.json',
  tokenizer: 'tokenizer.model',
  verified: '.verified.json',
} as const;
/** Tokenizer companions copied from the base when present (tokenizer_config.json carries `legacy`). */
const TOKENIZER_EXTRAS = ['tokenizer_config.json', 'special_tokens_map.json'];
const MANIFEST_FORMAT = 'cxr-llava-bundle';
const MANIFEST_VERSION = 1;

export interface BundleManifest {
  format: typeof MANIFEST_FORMAT;
  version: typeof MANIFEST_VERSION;
  dtype: BundleDtype;
  created: string;
  files: Record<string, { bytes: number; sha256: string }>;
}

export interface BundleConfig {
  dtype: BundleDtype;
  visionDtype: 'fp32' | 'fp16';
  decoderDtype: BundleDtype;
  llavaRad: LlavaRadConfig;
  /** Folder names the bundle was imported from (provenance only). */
  source: { llava: string; base: string };
}

export interface ImportOptions {
  llavaDir: string;
  baseDir: string;
  out: string;
  dtype?: BundleDtype;
  /** Block length of int4 weights (default DEFAULT_INT4_BLOCK_SIZE; 32 is the most accurate, 128 the fastest). */
  int4BlockSize?: Int4BlockSize;
  /** Cached key storage (default: int8 for int8/int4 bundles, float32 for fp32/fp16; sessions.defaultKvKeys). */
  kvKeys?: KvKeys;
  /** Replace an existing bundle at `out` (default: refuse). */
  force?: boolean;
  /** Called as each stage starts. */
  onStage?: (stage: 'weights' | 'graphs' | 'tokenizer' | 'manifest') => void;
}

/** Vision stays float: fp32 for an fp32 bundle, fp16 otherwise (the issue allows no integer vision). */
function visionDtypeFor(dtype: BundleDtype): 'fp32' | 'fp16' {
  return dtype === 'fp32' ? 'fp32' : 'fp16';
}

/** Import the released layout into a bundle at `out`; returns the manifest. */
export async function importBundle(opts: ImportOptions): Promise<BundleManifest> {
  const dtype = opts.dtype ?? 'fp32';
  if (!BUNDLE_DTYPES.includes(dtype))
    throw inputError('bundle.bad_dtype', 'unknown dtype', {
      field: 'dtype',
      expected: BUNDLE_DTYPES.join(', '),
      found: dtype,
    });
  checkInt4BlockSize(dtype, opts.int4BlockSize);
  if (opts.kvKeys !== undefined && !(KV_KEYS as readonly string[]).includes(opts.kvKeys))
    throw inputError('bundle.bad_kv_keys', 'unknown key cache storage', {
      field: 'kvKeys',
      expected: KV_KEYS.join(', '),
      found: String(opts.kvKeys),
    });
  const out = resolve(opts.out);
  if (existsSync(out) && !opts.force)
    throw inputError('bundle.exists', 'the output already exists (use --force to replace it)', { file: out });
  opts.onStage?.('weights');
  const weights = await openLlavaRad({ llavaDir: opts.llavaDir, baseDir: opts.baseDir });
  await removeAbandonedPartials(out);
  const tmp = `${out}${PARTIAL_INFIX}${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(tmp, { recursive: true }).catch((e: unknown) => {
      throw cannotWrite(out, e);
    });
    opts.onStage?.('graphs');
    const visionDtype = visionDtypeFor(dtype);
    const int4BlockSize = opts.int4BlockSize;
    await saveGraphs(weights, tmp, {
      visionDtype,
      decoderDtype: dtype,
      ...(int4BlockSize ? { int4BlockSize } : {}),
      ...(opts.kvKeys ? { kvKeys: opts.kvKeys } : {}),
    });
    opts.onStage?.('tokenizer');
    await copyPlain(weights.tokenizerModelPath, join(tmp, BUNDLE_FILES.tokenizer));
    for (const extra of TOKENIZER_EXTRAS) {
      const from = join(dirname(weights.tokenizerModelPath), extra);
      if (existsSync(from)) await copyPlain(from, join(tmp, extra));
    }
    const config: BundleConfig = {
      dtype,
      visionDtype,
      decoderDtype: dtype,
      llavaRad: weights.config,
      source: { llava: basename(resolve(opts.llavaDir)), base: basename(resolve(opts.baseDir)) },
    };
    await writeFile(join(tmp, BUNDLE_FILES.config), `${JSON.stringify(config, null, 2)}\n`);
    opts.onStage?.('manifest');
    const manifest = await writeManifest(tmp, dtype);
    await moveIntoPlace(tmp, out);
    return manifest;
  } catch (e) {
    // Cleaning up must not hide the first error (rm of a path through a file fails with ENOTDIR).
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw WRITE_ONLY_ERRNOS.includes((e as NodeJS.ErrnoException).code ?? '') ? cannotWrite(out, e) : e;
  } finally {
    await weights.close();
  }
}

function checkInt4BlockSize(dtype: BundleDtype, blockSize: number | undefined): void {
  if (blockSize === undefined) return;
  if (dtype !== 'int4')
    throw inputError('bundle.bad_block_size', 'an int4 block size is only for int4 bundles', {
      field: 'int4BlockSize',
      expected: 'dtype int4',
      found: `dtype ${dtype}`,
    });
  if (!(INT4_BLOCK_SIZES as readonly number[]).includes(blockSize))
    throw inputError('bundle.bad_block_size', 'unsupported int4 block size', {
      field: 'int4BlockSize',
      expected: INT4_BLOCK_SIZES.join(', '),
      found: String(blockSize),
    });
}

/** Errors only a write can raise (reads of the weights happen in the same steps, so EACCES is not here). */
const WRITE_ONLY_ERRNOS = ['ENOSPC', 'EDQUOT', 'EROFS'];

/** A bundle folder that cannot be written (read-only place, a path through a file, a full disk) is the user's to fix. */
function cannotWrite(out: string, e: unknown) {
  return inputError('bundle.cannot_write', `cannot write the bundle (${(e as Error).message})`, {
    file: out,
    cause: e,
  });
}

/** Temporary folders are `<out>.partial-<pid>-<random>`: the pid tells whether their writer still runs. */
const PARTIAL_INFIX = '.partial-';

/**
 * An import killed mid-way (Ctrl-C, out of memory) leaves its temporary folder behind; the next import of the
 * same bundle removes the ones whose process is gone, so gigabytes of half-written graphs do not pile up.
 */
export async function removeAbandonedPartials(out: string): Promise<string[]> {
  const prefix = `${basename(out)}${PARTIAL_INFIX}`;
  const removed: string[] = [];
  const siblings = await readdir(dirname(out)).catch(() => [] as string[]);
  for (const name of siblings) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (!Number.isInteger(pid) || processIsAlive(pid)) continue;
    await rm(join(dirname(out), name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: existence check only
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Bundle files are ordinary files, even when copied from a read-only download. */
const FILE_MODE = 0o644;

async function copyPlain(from: string, to: string): Promise<void> {
  await copyFile(from, to);
  await chmod(to, FILE_MODE);
}

async function writeManifest(dir: string, dtype: BundleDtype): Promise<BundleManifest> {
  const files: BundleManifest['files'] = {};
  for (const name of (await readdir(dir)).sort()) {
    files[name] = { bytes: (await stat(join(dir, name))).size, sha256: await sha256File(join(dir, name)) };
  }
  const manifest: BundleManifest = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    dtype,
    created: new Date().toISOString(),
    files,
  };
  await writeFile(join(dir, BUNDLE_FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
  // The files were just hashed: stamp them so the first load need not hash gigabytes again (rename keeps mtimes).
  await writeStamp(dir, manifest);
  return manifest;
}

async function writeStamp(dir: string, manifest: BundleManifest): Promise<void> {
  const stamp: Stamp = {};
  for (const name of Object.keys(manifest.files)) {
    const info = await stat(join(dir, name));
    stamp[name] = { bytes: info.size, mtimeMs: info.mtimeMs };
  }
  await writeFile(join(dir, BUNDLE_FILES.verified), JSON.stringify(stamp));
}

/** rename(2) the finished folder into place; an existing bundle (with --force) is moved aside first. */
async function moveIntoPlace(tmp: string, out: string): Promise<void> {
  if (!existsSync(out)) {
    await rename(tmp, out);
    return;
  }
  const old = `${out}.old-${process.pid}-${randomBytes(4).toString('hex')}`;
  await rename(out, old);
  await rename(tmp, out);
  await rm(old, { recursive: true, force: true });
}

/** sha256 of a file, streamed (bundles reach several GB). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface LoadedBundle {
  dir: string;
  manifest: BundleManifest;
  config: BundleConfig;
  tokenizerPath: string;
}

type Stamp = Record<string, { bytes: number; mtimeMs: number }>;

/**
 * Read and verify a bundle: the manifest must list every file with its size, and every file's sha256 must
 * match (files unchanged since the last successful verification are not hashed again).
 */
export async function loadBundle(dir: string): Promise<LoadedBundle> {
  const root = resolve(dir);
  const manifestPath = join(root, BUNDLE_FILES.manifest);
  if (!existsSync(manifestPath)) {
    throw inputError(
      'bundle.missing',
      existsSync(root)
        ? 'not a cxr model bundle (no manifest.json); create one with `cxr import`'
        : 'no model bundle here; get the weights with `cxr pull` and create a bundle with `cxr import`',
      { file: root },
    );
  }
  const manifest = readJson(manifestPath) as BundleManifest;
  if (manifest.format !== MANIFEST_FORMAT || manifest.version !== MANIFEST_VERSION || !manifest.files)
    throw inputError('bundle.bad_manifest', 'unsupported bundle manifest', {
      file: manifestPath,
      field: 'format',
      expected: `${MANIFEST_FORMAT} v${MANIFEST_VERSION}`,
      found: `${String(manifest.format)} v${String(manifest.version)}`,
    });
  await verifyFiles(root, manifest);
  return {
    dir: root,
    manifest,
    config: readJson(join(root, BUNDLE_FILES.config)) as BundleConfig,
    tokenizerPath: join(root, BUNDLE_FILES.tokenizer),
  };
}

async function verifyFiles(root: string, manifest: BundleManifest): Promise<void> {
  const stampPath = join(root, BUNDLE_FILES.verified);
  const previous: Stamp = existsSync(stampPath) ? (safeJson(stampPath) as Stamp) : {};
  for (const [name, expected] of Object.entries(manifest.files)) {
    const path = join(root, name);
    const info = await stat(path).catch(() => null);
    if (!info?.isFile())
      throw inputError('bundle.missing_file', 'a file the manifest lists is missing', { file: path });
    if (info.size !== expected.bytes)
      throw inputError('bundle.corrupt', 'file size differs from the manifest', {
        file: path,
        expected: `${expected.bytes} bytes`,
        found: `${info.size} bytes`,
      });
    const seen = previous[name];
    if (!(seen && seen.bytes === info.size && seen.mtimeMs === info.mtimeMs)) {
      const sha = await sha256File(path);
      if (sha !== expected.sha256)
        throw inputError('bundle.corrupt', 'file content differs from the manifest (sha256)', {
          file: path,
          expected: expected.sha256,
          found: sha,
        });
    }
  }
  // A read-only bundle is verified in full every time; that is slower, not wrong.
  await writeStamp(root, manifest).catch(() => undefined);
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw inputError('bundle.bad_json', `cannot read JSON (${(e as Error).message})`, {
      file: path,
      cause: e,
    });
  }
}

function safeJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return {};
  }
}
