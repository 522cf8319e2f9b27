import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, DATA, REPO_ROOT } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'cxr-label-'));
const REF = join(DATA, 'iu-xray', 'chexpert-labels.dev.jsonl');

describe('cxr label', () => {
  it('labels JSONL reports in input order with their ids', async () => {
    const file = join(dir, 'in.jsonl');
    writeFileSync(
      file,
      '{"id":"a","text":"No effusion."}\n{"id":"b","text":"Small left pleural effusion."}\n',
    );
    const r = await cli(['label', file]);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((x) => x.id)).toEqual(['a', 'b']);
    expect(rows[0].labels['Pleural Effusion']).toBe(0);
    expect(rows[0].labels['No Finding']).toBe(1);
    expect(rows[1].labels['Pleural Effusion']).toBe(1);
    expect(Object.keys(rows[1].labels)).toHaveLength(14);
  });

  it('labels plain text one report per line and CSV with a header, writing CSV to a file', async () => {
    const txt = join(dir, 'in.txt');
    writeFileSync(txt, 'Cardiomegaly.\n\nNo pneumothorax.\n');
    const t = await cli(['label', txt, '--output-format', 'csv']);
    expect(t.code).toBe(0);
    expect(t.stdout.split('\n')).toHaveLength(4);
    const csv = join(dir, 'in.csv');
    writeFileSync(csv, 'id,findings\n1,"Possible pneumonia, right base."\n');
    const out = join(dir, 'out.csv');
    const c = await cli(['label', csv, '--output-format', 'csv', '--output', out]);
    expect(c.code, c.stderr).toBe(0);
    const written = readFileSync(out, 'utf8').split('\n');
    expect(written[0]).toMatch(/^Reports,No Finding,/);
    expect(written[1]).toBe('"Possible pneumonia, right base.",,,,,,,,-1.0,,,,,,');
  });

  it('prints the agreement with reference labels, every class F1 and the confusions', async () => {
    const r = await cli(['label', '--agreement', REF]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/cell agreement\s+99\.\d\d%/);
    expect(r.stdout).toContain('non-blank agreement');
    expect(r.stdout).toMatch(/Pleural Effusion\s+uncertain/);
    expect(r.stdout).toContain('confusion');
    expect(r.stdout).not.toContain('BELOW');
    const j = await cli(['label', '--agreement', REF, '--json']);
    const a = JSON.parse(j.stdout);
    expect(a.reports).toBe(2197);
    // The README quotes this number; it said 99.4% while the labeler measured 99.50%.
    const cell = Number(/cell agreement\s+(\d+\.\d+)%/.exec(r.stdout)![1]);
    const quoted = /agrees with the official labeler on (\d+\.\d)% of cells/.exec(
      readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'),
    );
    expect(Number(quoted![1])).toBe(Math.round(cell * 10) / 10);
    expect(a.classes.length).toBe(42);
  });

  it('joins a labelled file with the reference on id', async () => {
    const file = join(dir, 'pred.jsonl');
    writeFileSync(file, '{"uid":1,"text":"No pneumothorax."}\n{"uid":999999,"text":"Effusion."}\n');
    const r = await cli(['label', file, '--agreement', REF]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('reports 1,');
    expect(r.stderr).toContain('1 of 2 reports have no reference labels');
  });

  it('warns about empty reports, which get No Finding 1 as in the official labeler', async () => {
    const file = join(dir, 'empty.jsonl');
    writeFileSync(file, '{"id":1,"text":null}\n{"id":2,"text":"  "}\n{"id":3,"text":"Cardiomegaly."}\n');
    const r = await cli(['label', file]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('2 of 3 reports are empty');
    expect(JSON.parse(r.stdout.split('\n')[0]!).labels['No Finding']).toBe(1);
  });

  it('exits 2 with a clear message on bad input', async () => {
    const missing = await cli(['label', join(dir, 'does-not-exist.jsonl')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('does-not-exist.jsonl');
    const noText = join(dir, 'notext.jsonl');
    writeFileSync(noText, '{"id":1,"body":"x"}\n');
    const a = await cli(['label', noText]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('cannot find the report text');
    const badJson = join(dir, 'bad.jsonl');
    writeFileSync(badJson, '{"text": \n');
    const b = await cli(['label', badJson]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('line 1');
    const c = await cli(['label']);
    expect(c.code).toBe(2);
    const d = await cli(['label', noText, '--output-format', 'xml']);
    expect(d.code).toBe(2);
    expect(d.stderr).toContain('--output-format');
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, Buffer.from([0x4e, 0x6f, 0xff, 0x0a]));
    const e = await cli(['label', bad]);
    expect(e.code).toBe(2);
    expect(e.stderr).toContain('UTF-8');
  });

  // The output stream's open error used to be unhandled: a stack trace and exit 1.
  it('an empty input is an error naming the file, not an empty success', async () => {
    for (const name of ['empty.jsonl', 'empty.csv', 'empty.txt']) {
      const file = join(dir, name);
      writeFileSync(file, '');
      const out = join(dir, `${name}.labels`);
      const r = await cli(['label', file, '-o', out]);
      expect(r.code, name).toBe(2);
      expect(r.stderr, name).toContain(`${file}: no reports in the file`);
    }
  });

  it('--output into a folder that does not exist: exit 2 naming the file', async () => {
    const file = join(dir, 'one.txt');
    writeFileSync(file, 'No effusion.\n');
    const out = join(dir, 'missing', 'labels.jsonl');
    const r = await cli(['label', file, '--output', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(out);
  });
});
