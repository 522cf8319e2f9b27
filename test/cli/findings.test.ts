/**
 * `cxr findings` end to end on the tiny-a oracle: an fp32 bundle imported from the released layout must give
 * exactly the golden generated ids of every case; plus streaming, batch/resume and the error paths.
 */

import { spawn } from 'node:child_process';
import {
  appendFileSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, REPO_ROOT } from '../helpers.js';
import {
  BASE_DIR,
  GOLDEN_MAX_NEW_TOKENS,
  IMAGE_DIR,
  LLAVA_DIR,
  promptFlags,
  type TinyCase,
  tinyManifest,
} from '../llava/tiny-a-cases.js';

let work: string;
let bundle: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'cxr-findings-'));
  bundle = join(work, 'tiny-fp32');
  const r = await cli(['import', '--llava', LLAVA_DIR, '--base', BASE_DIR, '--out', bundle]);
  expect(r.stderr + r.stdout).toContain('fp32 bundle');
  expect(r.code).toBe(0);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface JsonLine {
  image: string;
  findings: string;
  token_ids: number[];
  stop_reason: string;
  timings: Record<string, number>;
}
const parseLines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as JsonLine);

describe('cxr findings on the tiny-a fp32 bundle', () => {
  const byPrompt = new Map<string, TinyCase[]>();
  for (const c of tinyManifest.cases) byPrompt.set(c.prompt_id, [...(byPrompt.get(c.prompt_id) ?? []), c]);

  it.each([...byPrompt.keys()])('prompt %s: every case generates the golden ids', async (promptId) => {
    const cases = byPrompt.get(promptId)!;
    const images = cases.map((c) => join(IMAGE_DIR, c.image));
    const args = [
      'findings',
      ...images,
      '--model',
      bundle,
      '--json',
      '--max-new-tokens',
      String(GOLDEN_MAX_NEW_TOKENS),
    ];
    const r = await cli([...args, ...promptFlags(promptId)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = parseLines(r.stdout);
    expect(lines).toHaveLength(cases.length);
    cases.forEach((c, i) => {
      expect(lines[i]!.image).toBe(images[i]);
      expect(lines[i]!.token_ids, c.image).toEqual(c.generated_ids);
      expect(lines[i]!.findings).toBe(c.prediction_after_eval_postprocessing);
      expect(lines[i]!.stop_reason).toBe(c.stopped_on_eos ? 'eos' : 'max_new_tokens');
      for (const stage of ['preprocess_ms', 'vision_ms', 'prefill_ms', 'decode_ms', 'decode_tokens_per_s'])
        expect(lines[i]!.timings[stage], stage).toBeGreaterThan(0);
    });
  });

  it('streams the findings as text and reports the stage timings on stderr', async () => {
    const c = tinyManifest.cases.find((x) => x.stopped_on_eos)!;
    const r = await cli([
      'findings',
      join(IMAGE_DIR, c.image),
      '--model',
      bundle,
      ...promptFlags(c.prompt_id),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${c.prediction_after_eval_postprocessing}\n`);
    expect(r.stderr).toMatch(
      /preprocess [\d.]+ ms \| vision [\d.]+ ms \| prefill [\d.]+ ms .* \| decode [\d.]+ ms/,
    );
  });

  it('imports on the fly from --llava/--base with the same result', async () => {
    const c = tinyManifest.cases[0]!;
    const args = ['findings', join(IMAGE_DIR, c.image), '--llava', LLAVA_DIR, '--base', BASE_DIR, '--json'];
    const r = await cli([
      ...args,
      '--max-new-tokens',
      String(GOLDEN_MAX_NEW_TOKENS),
      ...promptFlags(c.prompt_id),
    ]);
    expect(r.code).toBe(0);
    expect(parseLines(r.stdout)[0]!.token_ids).toEqual(c.generated_ids);
  });
});

describe('cxr findings errors', () => {
  it('points to cxr pull when there are no weights', async () => {
    const noBundle = await cli([
      'findings',
      join(IMAGE_DIR, 'CXR7_IM-2263-1001.png'),
      '--model',
      join(work, 'nope'),
    ]);
    expect(noBundle.code).toBe(2);
    expect(noBundle.stderr).toContain('cxr pull');
    const noDir = await cli(['findings', 'x.png', '--llava', join(work, 'no-llava'), '--base', BASE_DIR]);
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toContain('cxr pull');
    const nothing = await cli(['findings', 'x.png']);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('cxr pull');
  });

  it('refuses a bundle whose files do not match the manifest', async () => {
    const copy = join(work, 'tampered');
    cpSync(bundle, copy, { recursive: true, preserveTimestamps: true });
    // Same size, new content: the stamp no longer matches the file's mtime, so it is hashed again.
    const tok = join(copy, 'tokenizer_config.json');
    writeFileSync(tok, readFileSync(tok, 'utf8').replace('"legacy": false', '"legacy": true '));
    const r = await cli(['findings', join(IMAGE_DIR, 'CXR7_IM-2263-1001.png'), '--model', copy]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/tokenizer_config\.json: file content differs from the manifest \(sha256\)/);
  });

  it('names a bad image and a bad option', async () => {
    const bad = join(work, 'bad.png');
    writeFileSync(bad, 'not an image');
    const r = await cli(['findings', bad, '--model', bundle]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(bad);
    const opt = await cli(['findings', bad, '--model', bundle, '--instruction', 'poem']);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toContain('--instruction');
  });
});

describe('cxr findings --batch', () => {
  it('writes one line per study, keeps going past a bad image and resumes without redoing studies', async () => {
    const dir = join(work, 'batch');
    cpSync(IMAGE_DIR, dir, { recursive: true });
    const list = join(dir, 'studies.jsonl');
    const indication = 'cough\nfever';
    writeFileSync(
      list,
      [
        { id: 'a', image: 'CXR7_IM-2263-1001.png' },
        { id: 'b', image: 'CXR7_IM-2263-1001.png', indication },
        { id: 'broken', image: 'missing.png' },
      ]
        .map((x) => JSON.stringify(x))
        .join('\n'),
    );
    const out = join(work, 'results.jsonl');
    const args = ['findings', '--batch', list, '--out', out, '--model', bundle, '--max-new-tokens', '5'];
    const first = await cli(args);
    expect(first.code).toBe(2); // one study failed
    expect(first.stdout).toContain('3 written, 0 skipped, 1 failed of 3');
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.id)).toEqual(['a', 'b', 'broken']);
    expect(lines[0].token_ids).toEqual(tinyManifest.cases[0]!.generated_ids.slice(0, 5));
    expect(lines[1].indication).toBe(indication);
    expect(lines[2].error.code).toMatch(/^image\./);
    expect(lines[2].error.message).toContain(`${join(dir, 'missing.png')}: no such file`);

    // Without --resume an existing output is left alone.
    expect((await cli(args)).code).toBe(2);
    // A crash mid-line leaves a torn tail: resume cuts it and skips the finished studies.
    appendFileSync(out, '{"id": "c", "fin');
    const again = await cli([...args, '--resume']);
    // The failure kept from the first run still makes the output incomplete: counted, exit 2.
    expect(again.stdout).toContain('0 written, 3 skipped, 1 failed of 3');
    expect(again.code).toBe(2);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('reads a manifest saved with a byte-order mark and CRLF line ends', async () => {
    const list = join(work, 'windows.jsonl');
    const rows = [
      { id: 'é—患者 1', image: join(IMAGE_DIR, 'CXR7_IM-2263-1001.png') },
      { id: 'two', image: join(IMAGE_DIR, 'CXR7_IM-2263-1001.png') },
    ];
    writeFileSync(list, `\uFEFF${rows.map((x) => JSON.stringify(x)).join('\r\n')}\r\n`);
    const out = join(work, 'windows-results.jsonl');
    const r = await cli([
      'findings',
      '--batch',
      list,
      '--out',
      out,
      '--model',
      bundle,
      '--max-new-tokens',
      '1',
    ]);
    expect(r.stderr).not.toContain('not a JSON object');
    expect(r.code).toBe(0);
    const ids = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).id);
    expect(ids).toEqual(['é—患者 1', 'two']);
  });

  it('refuses an --out it cannot write before loading the model (exit 2, names the file)', async () => {
    const list = join(work, 'one.jsonl');
    writeFileSync(list, `${JSON.stringify({ image: join(IMAGE_DIR, 'CXR7_IM-2263-1001.png') })}\n`);
    const blocker = join(work, 'a-file');
    writeFileSync(blocker, '');
    const out = join(blocker, 'results.jsonl'); // a folder path through a file
    const r = await cli(['findings', '--batch', list, '--out', out, '--model', join(work, 'no-such-bundle')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${out}: cannot write the results`);
    expect(r.stderr).not.toContain('internal error');
  });

  it('refuses an out-of-range decoding option before any study runs, naming the flag', async () => {
    const list = join(work, 'options.jsonl');
    writeFileSync(list, `${JSON.stringify({ image: join(IMAGE_DIR, 'CXR7_IM-2263-1001.png') })}\n`);
    const out = join(work, 'options-results.jsonl');
    for (const [flagName, value] of [
      ['--top-p', '2'],
      ['--max-new-tokens', '0'],
      ['--num-beams', '0'],
    ]) {
      const r = await cli(['findings', '--batch', list, '--out', out, '--model', bundle, flagName!, value!]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${flagName}: invalid generation option`);
      // No error line per study: a corrected rerun with --resume must not skip them.
      expect(existsSync(out)).toBe(false);
    }
  });

  it('Ctrl-C mid-batch exits 130 with a --resume hint; --resume then finishes without redoing studies', async () => {
    const dir = join(work, 'many');
    mkdirSync(dir);
    const count = 150; // far more than the first seconds can get through
    for (let i = 0; i < count; i++)
      symlinkSync(join(IMAGE_DIR, 'CXR7_IM-2263-1001.png'), join(dir, `s${i}.png`));
    const out = join(work, 'many.jsonl');
    const args = ['findings', '--batch', dir, '--out', out, '--model', bundle, '--max-new-tokens', '2'];
    const child = spawn(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [
      join(REPO_ROOT, 'src/cli/bin.ts'),
      ...args,
    ]);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/\[3\/\d+\]/.test(stderr)) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(code).toBe(130);
    expect(stderr).toContain(`interrupted; finished studies are in ${out}; rerun with --resume`);
    const before = readFileSync(out, 'utf8').split('\n').filter(Boolean).length;
    expect(before).toBeLessThan(count);
    const again = await cli([...args, '--resume']);
    expect(again.code).toBe(0);
    const ids = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).id);
    expect(new Set(ids).size).toBe(count);
    expect(ids).toHaveLength(count);
  }, 60_000);

  it('refuses --out and --resume without --batch instead of ignoring them', async () => {
    const image = join(IMAGE_DIR, 'CXR7_IM-2263-1001.png');
    const r = await cli(['findings', image, '--model', bundle, '--out', join(work, 'lost.jsonl')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--out: only with --batch');
    const resume = await cli(['findings', image, '--model', bundle, '--resume']);
    expect(resume.code).toBe(2);
    expect(resume.stderr).toContain('--resume: only with --batch');
  });

  it('takes every image of a folder', async () => {
    const dir = join(work, 'folder');
    cpSync(IMAGE_DIR, dir, { recursive: true });
    copyFileSync(join(IMAGE_DIR, 'CXR7_IM-2263-1001.png'), join(dir, 'notes.txt'));
    const out = join(work, 'folder.jsonl');
    const r = await cli([
      'findings',
      '--batch',
      dir,
      '--out',
      out,
      '--model',
      bundle,
      '--max-new-tokens',
      '2',
    ]);
    expect(r.code).toBe(0);
    const ids = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).id);
    expect(ids).toEqual(
      tinyManifest.cases
        .map((c) => c.image)
        .filter((v, i, a) => a.indexOf(v) === i)
        .sort(),
    );
  });
});
