/**
 * Many studies through one loaded model: a folder of images or a JSONL manifest in, one JSONL line per study
 * out. Each line is written with a single append, so an interrupted run leaves whole lines (a torn last line
 * from a crash is cut off on resume); `resume` skips studies whose line is already there.
 */
import { constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { access, appendFile, mkdir, truncate } from 'node:fs/promises';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { inputError, isCxrError } from '../errors.js';
import type { FindingsOptions, FindingsResult, LlavaModel } from './pipeline.js';
import { runFindings } from './pipeline.js';
import type { InstructionKind } from './prompt.js';

/** File endings taken from a folder (anything else in it is ignored). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.dcm', '.dicom'];

export interface Study {
  /** Unique within a run; the key `resume` matches on. */
  id: string;
  image: string;
  indication?: string | null;
  instruction?: InstructionKind;
}

/** One output line: the result, or the error that study hit (other studies go on). */
export type StudyLine =
  | ({ id: string; indication: string | null } & FindingsResult)
  | { id: string; image: string; error: { code: string; message: string } };

/** Studies from a folder (every image, sorted, id = path relative to the folder) or a JSONL manifest. */
export function readStudies(path: string): Study[] {
  const root = resolve(path);
  if (!existsSync(root)) throw inputError('batch.missing', 'no such folder or manifest', { file: root });
  if (statSync(root).isDirectory()) return folderStudies(root);
  return manifestStudies(root);
}

function folderStudies(root: string): Study[] {
  const files = (readdirSync(root, { recursive: true }) as string[])
    .filter((f) => IMAGE_EXTENSIONS.includes(extname(f).toLowerCase()))
    .sort();
  if (files.length === 0)
    throw inputError('batch.empty', 'no images in the folder', {
      file: root,
      expected: IMAGE_EXTENSIONS.join(' '),
    });
  return files.map((f) => ({ id: f, image: join(root, f) }));
}

/** `{"image": PATH, "id"?: STR, "indication"?: STR|null}` per line; relative paths are from the manifest. */
function manifestStudies(file: string): Study[] {
  const studies: Study[] = [];
  const ids = new Set<string>();
  readFileSync(file, 'utf8')
    .replace(/^\uFEFF/, '') // a byte-order mark from Windows editors
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      const where = { file, field: `line ${i + 1}` };
      let row: Record<string, unknown>;
      try {
        row = JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw inputError('batch.bad_manifest', 'not a JSON object', where);
      }
      if (typeof row?.image !== 'string' || row.image === '')
        throw inputError('batch.bad_manifest', 'needs an "image" path', {
          ...where,
          expected: '{"image": "..."}',
        });
      const ind = row.indication;
      if (ind !== undefined && ind !== null && typeof ind !== 'string')
        throw inputError('batch.bad_manifest', '"indication" must be a string or null', where);
      const image = resolve(dirname(file), row.image);
      const id = typeof row.id === 'string' && row.id !== '' ? row.id : relative(dirname(file), image);
      if (ids.has(id)) throw inputError('batch.duplicate_id', `study id '${id}' appears twice`, where);
      ids.add(id);
      studies.push({ id, image, indication: (ind as string | null | undefined) ?? null });
    });
  if (studies.length === 0) throw inputError('batch.empty', 'the manifest lists no studies', { file });
  return studies;
}

export interface BatchProgress {
  done: number;
  total: number;
  skipped: number;
  failed: number;
  /** The study just finished (absent for the initial report). */
  last?: StudyLine;
  elapsedMs: number;
}

export interface BatchOptions extends FindingsOptions {
  /** Output JSONL path. */
  out: string;
  /** Skip studies already in `out` (default: refuse to touch an existing `out`). */
  resume?: boolean;
  /** Default instruction for studies that do not set one. */
  instruction?: InstructionKind;
  onProgress?: (p: BatchProgress) => void;
}

export interface BatchSummary {
  total: number;
  written: number;
  skipped: number;
  failed: number;
}

export async function runBatch(
  model: LlavaModel,
  studies: Study[],
  opts: BatchOptions,
): Promise<BatchSummary> {
  const out = resolve(opts.out);
  await checkBatchOutput(out, opts.resume ?? false);
  const done = opts.resume ? await completedIds(out) : new Map<string, boolean>();
  const start = performance.now();
  const progress = { done: 0, total: studies.length, skipped: 0, failed: 0, elapsedMs: 0 };
  const report = (last?: StudyLine) =>
    opts.onProgress?.({ ...progress, last, elapsedMs: performance.now() - start });
  report();
  for (const study of studies) {
    if (done.has(study.id)) {
      // A failure kept from an earlier run still counts: the output is not complete.
      if (done.get(study.id)) progress.failed++;
      progress.skipped++;
      progress.done++;
      continue;
    }
    const line = await runStudy(model, study, opts);
    if ('error' in line) progress.failed++;
    await appendFile(out, `${JSON.stringify(line)}\n`).catch((e: unknown) => {
      throw cannotWrite(out, e);
    });
    progress.done++;
    report(line);
  }
  return {
    total: studies.length,
    written: progress.done - progress.skipped,
    skipped: progress.skipped,
    failed: progress.failed,
  };
}

/**
 * Fails fast, before a model is loaded, when `out` exists without `resume` or cannot be written (a read-only
 * folder, a path through a file); creates its folder.
 */
export async function checkBatchOutput(out: string, resume: boolean): Promise<void> {
  if (!resume && existsSync(out))
    throw inputError('batch.output_exists', 'the output exists; pass --resume to continue it or remove it', {
      file: out,
    });
  try {
    await mkdir(dirname(out), { recursive: true });
    await access(existsSync(out) ? out : dirname(out), constants.W_OK);
  } catch (e) {
    throw cannotWrite(out, e);
  }
}

function cannotWrite(out: string, e: unknown) {
  return inputError('batch.cannot_write', `cannot write the results (${(e as Error).message})`, {
    file: out,
    cause: e,
  });
}

async function runStudy(model: LlavaModel, study: Study, opts: BatchOptions): Promise<StudyLine> {
  const request = {
    image: study.image,
    indication: study.indication ?? null,
    instruction: study.instruction ?? opts.instruction,
  };
  try {
    const result = await runFindings(model, request, opts);
    return { id: study.id, indication: request.indication, ...result };
  } catch (e) {
    // A bad image fails its own line; anything else (a broken model) stops the run.
    if (!isCxrError(e) || e.kind !== 'input') throw e;
    return { id: study.id, image: study.image, error: { code: e.code, message: e.message } };
  }
}

/**
 * Studies with a line in `out`, results and errors alike (one line per study; delete an error line to retry
 * that study), each mapped to whether its line is an error. A last line without its newline is a write cut
 * short: it is removed so the file stays valid JSONL.
 */
async function completedIds(out: string): Promise<Map<string, boolean>> {
  const ids = new Map<string, boolean>();
  if (!existsSync(out)) return ids;
  const text = readFileSync(out, 'utf8');
  const end = text.endsWith('\n') ? text.length : text.lastIndexOf('\n') + 1;
  if (end < text.length) await truncate(out, Buffer.byteLength(text.slice(0, end)));
  text
    .slice(0, end)
    .split('\n')
    .forEach((line, i) => {
      if (line === '') return;
      let row: { id?: unknown; error?: unknown };
      try {
        row = JSON.parse(line) as typeof row;
      } catch {
        throw inputError('batch.bad_output', 'not a JSON line; cannot resume', {
          file: out,
          field: `line ${i + 1}`,
        });
      }
      if (typeof row.id === 'string') ids.set(row.id, row.error !== undefined);
    });
  return ids;
}
