import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClassificationReport } from '../../../src/eval/labels/index.js';
import { toChexpertLabels } from '../../../src/eval/labels/index.js';
import { cli, FIXTURES } from '../../helpers.js';

const DIR = join(FIXTURES, 'oracle', 'chexbert-tiny');
const WEIGHTS = join(DIR, 'chexbert.pth');
const REPORT_TOLERANCE = 1e-9;

interface GoldenText {
  id: string;
  text: string;
  classes: number[];
}
const golden = JSON.parse(readFileSync(join(DIR, 'chexbert_golden.json'), 'utf8')) as { texts: GoldenText[] };
const evaluate = JSON.parse(readFileSync(join(DIR, 'evaluate_golden.json'), 'utf8')) as Record<
  string,
  unknown
> & {
  pred_text_ids: string[];
  ref_text_ids: string[];
};
const textOf = (id: string) => golden.texts.find((t) => t.id === id)!.text;

const work = mkdtempSync(join(tmpdir(), 'cxr-chexbert-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function writeJsonl(name: string, rows: object[]): string {
  const path = join(work, name);
  writeFileSync(path, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return path;
}

describe('cxr label --labeler chexbert', () => {
  it('writes the official classes as CheXpert labels for all 46 golden texts, in input order', async () => {
    const input = writeJsonl(
      'reports.jsonl',
      golden.texts.map((t) => ({ id: t.id, text: t.text })),
    );
    const r = await cli([
      'label',
      input,
      '--labeler',
      'chexbert',
      '--weights',
      WEIGHTS,
      '--chexbert-threads',
      '1',
    ]);
    // the golden set holds two empty texts: warned about, labelled like the rest
    expect(r.stderr).toBe('cxr label: warning: 2 of 46 reports are empty\n');
    expect(r.code).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; labels: unknown });
    expect(rows.map((row) => row.id)).toEqual(golden.texts.map((t) => t.id));
    expect(rows.map((row) => row.labels)).toEqual(golden.texts.map((t) => toChexpertLabels(t.classes)));
  });

  it('finds vocab.txt and config.json given explicitly when they are not beside the weights', async () => {
    const alone = join(work, 'chexbert.pth');
    copyFileSync(WEIGHTS, alone);
    const input = writeJsonl('two.jsonl', [{ text: textOf('iu_2') }, { text: '' }]);
    const missing = await cli(['label', input, '--labeler', 'chexbert', '--weights', alone]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/vocab\.txt/);
    const r = await cli([
      'label',
      input,
      '--labeler',
      'chexbert',
      '--weights',
      alone,
      '--vocab',
      join(DIR, 'vocab.txt'),
      '--bert-config',
      join(DIR, 'config.json'),
      '--output-format',
      'csv',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^Reports,No Finding,/);
    expect(r.stdout.trim().split('\n')).toHaveLength(3);
  });

  it('without the tiny config, the bert-base-uncased shape check names the tensor that does not fit', async () => {
    const input = writeJsonl('one.jsonl', [{ text: 'clear' }]);
    const alone = join(work, 'chexbert.pth');
    const r = await cli([
      'label',
      input,
      '--labeler',
      'chexbert',
      '--weights',
      alone,
      '--vocab',
      join(DIR, 'vocab.txt'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/word_embeddings\.weight.*expected \[30522,768\]; found \[30522,64\]/);
  });

  it('writes --output atomically like the rule labeler, and refuses an empty input', async () => {
    const input = writeJsonl('three.jsonl', [{ text: textOf('iu_2') }, { text: 'clear' }, { text: '' }]);
    const out = join(work, 'labels.jsonl');
    const flags = ['--labeler', 'chexbert', '--weights', WEIGHTS, '--chexbert-threads', '1'];
    const r = await cli(['label', input, '--output', out, ...flags]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(3);
    expect(r.stderr).toContain('1 of 3 reports are empty');
    const inMissingFolder = await cli([
      'label',
      input,
      '--output',
      join(work, 'no', 'such', 'x.jsonl'),
      ...flags,
    ]);
    expect(inMissingFolder.code).toBe(2);
    const empty = writeJsonl('empty.jsonl', []);
    const none = await cli(['label', empty, ...flags]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no reports in the file');
  });

  it('rejects a missing --weights, an unknown labeler and a file that is not a checkpoint', async () => {
    const input = writeJsonl('x.jsonl', [{ text: 'clear' }]);
    const noWeights = await cli(['label', input, '--labeler', 'chexbert']);
    expect(noWeights.code).toBe(2);
    expect(noWeights.stderr).toMatch(/--weights/);
    expect(noWeights.stderr).toContain('cxr pull chexbert');
    const unknown = await cli(['label', input, '--labeler', 'chexbort']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/rule or chexbert/);
    const junk = join(work, 'junk.pth');
    writeFileSync(junk, 'not a checkpoint');
    const bad = await cli([
      'label',
      input,
      '--labeler',
      'chexbert',
      '--weights',
      junk,
      '--vocab',
      join(DIR, 'vocab.txt'),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/junk\.pth/);
  });
});

describe('cxr eval --labeler chexbert', () => {
  it('reproduces the official evaluate() F1 values in both conventions under the suite names', async () => {
    const pairs = writeJsonl(
      'pairs.jsonl',
      evaluate.pred_text_ids.map((p, i) => ({
        id: String(i),
        prediction: textOf(p),
        reference: textOf(evaluate.ref_text_ids[i]!),
      })),
    );
    const r = await cli([
      'eval',
      '--pred',
      pairs,
      '--labeler',
      'chexbert',
      '--weights',
      WEIGHTS,
      '--json',
      '--bootstrap',
      '0',
      '-q',
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { metrics: { name: string; point: number; signature: string }[] };
    const golden14 = (report: string, avg: string) =>
      (evaluate[report] as ClassificationReport)[`${avg} avg`]!['f1-score'];
    let checked = 0;
    for (const [suffix, plus] of [
      ['', ''],
      ['_uncertain_pos', '_plus'],
    ]) {
      for (const n of [14, 5]) {
        for (const avg of ['micro', 'macro']) {
          const m = doc.metrics.find((x) => x.name === `f1_${n}_${avg}${suffix}`)!;
          expect(m.signature).toMatch(/labeler:chexbert/);
          expect(Math.abs(m.point - golden14(`report_${n}_rrg${plus}`, avg))).toBeLessThanOrEqual(
            REPORT_TOLERANCE,
          );
          checked++;
        }
      }
    }
    expect(checked).toBe(8);
    expect(doc.metrics.filter((m) => m.name.startsWith('f1_'))).toHaveLength(8);

    // with the bootstrap on, CheXbert's F1 is reported as the label-F1 convention says (median, 95% interval)
    const withCi = await cli([
      'eval',
      '--pred',
      pairs,
      '--labeler',
      'chexbert',
      '--weights',
      WEIGHTS,
      '--json',
      '--bootstrap',
      '50',
      '-q',
    ]);
    const f1 = (
      JSON.parse(withCi.stdout) as { metrics: { name: string; ci: unknown; signature: string }[] }
    ).metrics.find((m) => m.name === 'f1_14_micro')!;
    expect(f1.ci).not.toBeNull();
    expect(f1.signature).toMatch(/labeler:chexbert.*report:median/);
  });
});
