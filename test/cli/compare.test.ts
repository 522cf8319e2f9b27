import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, REPO_ROOT } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'cxr-compare-'));
const REF = join(REPO_ROOT, 'examples', 'references.jsonl');
const PRED = join(REPO_ROOT, 'examples', 'predictions.jsonl');
const ids = readFileSync(REF, 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l).id as string);
/** A constant "normal study" system: a weak baseline every reasonable system should beat. */
const NORMAL = join(dir, 'normal.jsonl');
writeFileSync(
  NORMAL,
  ids
    .map((id) => JSON.stringify({ id, prediction: 'Lungs are clear. Heart size is normal. No effusion.' }))
    .join('\n'),
);

/** The bundled predictions against the constant baseline. */
const TWO_SYSTEMS = ['compare', '--ref', REF, '--pred', PRED, '--pred', NORMAL];

describe('cxr compare', () => {
  it('reports per-system values and paired differences with CIs and randomisation p-values', async () => {
    const r = await cli([
      ...TWO_SYSTEMS,
      '--metrics',
      'bleu4,rougeL,chexpert-f1',
      '--json',
      '--trials',
      '200',
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.n).toBe(24);
    expect(doc.systems.map((s: { name: string }) => s.name)).toEqual(['predictions.jsonl', 'normal.jsonl']);
    expect(doc.comparisons).toHaveLength(10);
    const rouge = doc.comparisons.find((c: { metric: string }) => c.metric === 'rougeL');
    const [a, b] = doc.systems.map((s: { metrics: { name: string; value: number }[] }) =>
      s.metrics.find((m) => m.name === 'rougeL'),
    );
    expect(rouge.difference).toBeGreaterThan(0.1);
    expect(rouge.low).toBeGreaterThan(0);
    expect(rouge.low).toBeLessThan(rouge.high);
    expect(rouge.pValue).toBeCloseTo(1 / 201, 12);
    expect(rouge.trials).toBe(200);
    expect(rouge.signature).toMatch(/^rougeL\|/);
    // ROUGE-L is a mean, so the difference of full-sample values is the difference of means
    expect(a.value - b.value).toBeCloseTo(rouge.difference, 1);
  });
  it('a system against a copy of itself differs by exactly 0 with p = 1', async () => {
    const copy = join(dir, 'copy.jsonl');
    writeFileSync(copy, readFileSync(PRED));
    const r = await cli([
      'compare',
      '--ref',
      REF,
      '--pred',
      PRED,
      '--pred',
      copy,
      '--metrics',
      'bleu4,cider',
      '--csv',
      '--trials',
      '50',
    ]);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').slice(1);
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatch(/^\w+,predictions\.jsonl,copy\.jsonl,0,0,0,1,50,24,/);
  });
  it('writes an HTML page with one bar per system and the difference table', async () => {
    const out = join(dir, 'compare.html');
    const r = await cli([...TWO_SYSTEMS, '--metrics', 'bleu4', '--html', out, '--trials', '20']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^bleu4 +predictions\.jsonl - normal\.jsonl/m);
    const html = readFileSync(out, 'utf8');
    expect(html.match(/<rect /g)).toHaveLength(2);
    expect(html).toContain('Paired differences');
  });
  it('needs a reference file and two systems', async () => {
    const r = await cli(['compare', '--ref', REF, '--pred', PRED]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('at least two --pred FILE');
  });
});
