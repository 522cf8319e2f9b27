import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluate, RULE_LABELER } from '../../src/eval/index.js';
import { labelF1Scores, labelReports } from '../../src/eval/labels/index.js';
import { corpusBleu } from '../../src/eval/text/index.js';
import { cli, REPO_ROOT } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'cxr-eval-'));
const file = (name: string, content: string | Buffer): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const folder = (name: string): string => {
  const path = join(dir, name);
  mkdirSync(path, { recursive: true });
  return path;
};
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const readJsonl = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

const PRED = join(REPO_ROOT, 'examples', 'predictions.jsonl');
const REF = join(REPO_ROOT, 'examples', 'references.jsonl');
const examples = {
  pred: readJsonl(PRED) as { id: string; prediction: string }[],
  ref: readJsonl(REF) as { id: string; reference: string }[],
};

describe('cxr eval on the bundled examples (the README first screen)', () => {
  it('the README shows the command and it runs from the repository root', async () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(
      'npx cxr eval --pred examples/predictions.jsonl --ref examples/references.jsonl',
    );
    expect(process.cwd()).toBe(REPO_ROOT);
    const r = await cli([
      'eval',
      '--pred',
      'examples/predictions.jsonl',
      '--ref',
      'examples/references.jsonl',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^24 pairs/);
    for (const name of ['bleu1', 'bleu4', 'rougeL', 'cider', 'f1_14_micro', 'f1_5_macro_uncertain_pos']) {
      expect(r.stdout).toMatch(new RegExp(`^${name} +\\d+\\.\\d+ +\\[`, 'm'));
      expect(r.stdout).toMatch(new RegExp(`^  ${name}: ${name}\\|v:\\d+\\|compat:`, 'm'));
    }
  });
  it('are 24 distinct ids with matching predictions and references', () => {
    expect(examples.pred.map((p) => p.id)).toEqual(examples.ref.map((r) => r.id));
    expect(new Set(examples.pred.map((p) => p.id)).size).toBe(24);
  });
  it('--json gives values equal to the library, each with interval and signature', async () => {
    const r = await cli(['eval', '--pred', PRED, '--ref', REF, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.n).toBe(24);
    const bleu4 = doc.metrics.find((m: { name: string }) => m.name === 'bleu4');
    const want = corpusBleu(
      examples.pred.map((p) => p.prediction),
      examples.ref.map((p) => p.reference),
    ).score;
    expect(bleu4.value).toBe(want);
    for (const m of doc.metrics) {
      expect(m.ci[0]).toBeLessThanOrEqual(m.ci[1]);
      const rng = m.name.startsWith('bleu') ? 'seed:12345|ci:0.95|rng:pcg64' : 'seed:3|ci:0.95|rng:mt19937';
      expect(m.signature).toContain(`|bs:500|${rng}|`);
    }
    expect(doc.metrics).toHaveLength(12);
  });
  it('--seed replaces the reference seeds of every metric; --bootstrap sets the resamples', async () => {
    const args = ['eval', '--pred', PRED, '--ref', REF, '--metrics', 'bleu4,rougeL', '--json'];
    const base = JSON.parse((await cli(args)).stdout).metrics;
    const seeded = JSON.parse((await cli([...args, '--seed', '7', '--bootstrap', '200'])).stdout).metrics;
    expect(seeded.map((m: { signature: string }) => m.signature.match(/bs:\d+\|seed:\d+/)![0])).toEqual([
      'bs:200|seed:7',
      'bs:200|seed:7',
    ]);
    expect(seeded[0].value).toBe(base[0].value); // corpus BLEU does not depend on the bootstrap
    expect(seeded[0].ci).not.toEqual(base[0].ci);
    const bad = await cli([...args, '--seed=99999999999']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--seed: out of range');
  });
  it('chexpert-f1 labels both sides with the rule labeler of the labels index', async () => {
    const r = await cli([
      'eval',
      '--pred',
      PRED,
      '--ref',
      REF,
      '--metrics',
      'chexpert-f1',
      '--json',
      '--bootstrap',
      '0',
    ]);
    const got = JSON.parse(r.stdout).metrics.map((m: { name: string; value: number }) => [m.name, m.value]);
    const want = labelF1Scores(
      labelReports(examples.pred.map((p) => p.prediction)),
      labelReports(examples.ref.map((p) => p.reference)),
      RULE_LABELER,
    ).map((s) => [s.name, s.value]);
    expect(got).toEqual(want);
    expect(JSON.parse(r.stdout).metrics[0].signature).toContain('|labeler:cxr-chexpert-rules|');
  });
  it('--csv has one row per number with its signature', async () => {
    const r = await cli(['eval', '--pred', PRED, '--ref', REF, '--csv', '--metrics', 'bleu4,rougeL']);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('metric,value,ci_low,ci_high,point,reported_as,n,signature');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/^rougeL,0\.\d+,0\.\d+,0\.\d+,0\.\d+,mid,24,rougeL\|/);
  });
  it('--per-report writes signatures, then one row per pair with sentence values and labels', async () => {
    const out = join(dir, 'per.jsonl');
    const r = await cli(['eval', '--pred', PRED, '--ref', REF, '--per-report', out, '--bootstrap', '0']);
    expect(r.code).toBe(0);
    const [meta, ...rows] = readJsonl(out);
    expect(Object.keys(meta.signatures)).toEqual(['bleu1', 'bleu4', 'rougeL', 'cider']);
    expect(meta.label_order).toHaveLength(14);
    expect(rows).toHaveLength(24);
    expect(rows[13]).toMatchObject({ id: 'ex14', rougeL: 1 });
    expect(rows[13].bleu4).toBeCloseTo(100, 10);
    expect(rows[13].labels_prediction).toEqual(rows[13].labels_reference);
    expect(r.stdout).toMatch(/^bleu4 +\d+\.\d+ +- +full-sample value/m);
  });
  it('--html writes one self-contained page with a chart per metric', async () => {
    const out = join(dir, 'report.html');
    const r = await cli([
      'eval',
      '--pred',
      PRED,
      '--ref',
      REF,
      '--html',
      out,
      '--metrics',
      'bleu4,rougeL,cider',
    ]);
    expect(r.code).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html.match(/<svg /g)).toHaveLength(3);
    expect(html).not.toMatch(/<script|<link|src=|href=|url\(/i);
    expect(html).toContain('bleu4|v:1|compat:sacrebleu-2.6.0');
  });
});

describe('cxr eval input formats', () => {
  const rows = examples.pred.map((p, i) => ({ ...p, reference: examples.ref[i]!.reference }));
  const expected = evaluate(
    rows.map((r) => r.prediction),
    rows.map((r) => r.reference),
    { metrics: ['bleu4', 'rougeL'], bootstrap: { resamples: 0 } },
  ).metrics.map((m) => m.value);
  const values = (stdout: string) => JSON.parse(stdout).metrics.map((m: { value: number }) => m.value);

  it('one LLaVA-Rad file {id, query, reference, prediction} with bare NaN literals', async () => {
    const lines = rows.map((r) =>
      JSON.stringify({
        id: r.id,
        query: 'Describe the findings.',
        reference: r.reference,
        prediction: r.prediction,
        score: 1,
      }),
    );
    lines.push(
      '{"id": "nan-row", "query": NaN, "reference": "Clear lungs.", "prediction": NaN, "score": -Infinity}',
    );
    const path = file('llava.jsonl', `${lines.join('\n')}\n`);
    const r = await cli(['eval', '--pred', path, '--metrics', 'bleu4,rougeL', '--json', '--bootstrap', '0']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('1 predictions are null/NaN, scored as empty text (nan-row)');
    expect(JSON.parse(r.stdout).n).toBe(25);
  });
  it('CSV with quoted newlines, commas and doubled quotes gives the JSONL numbers', async () => {
    const q = (s: string) => `"${s.replaceAll('"', '""')}"`;
    // put a newline and quotes inside one text so the CSV is multi-line; the JSONL twin has the same text
    const tricky = rows.map((r, i) =>
      i === 2 ? { ...r, prediction: `${r.prediction}\nSee "prior", too.` } : r,
    );
    const csv = [
      'id,prediction,reference',
      ...tricky.map((r) => [r.id, q(r.prediction), q(r.reference)].join(',')),
    ];
    const csvPath = file('pairs.csv', `${csv.join('\r\n')}\r\n`);
    const jsonPath = file('pairs.jsonl', jsonl(tricky));
    const args = ['--metrics', 'bleu4,rougeL', '--json', '--bootstrap', '0'];
    const a = await cli(['eval', '--pred', csvPath, ...args]);
    const b = await cli(['eval', '--pred', jsonPath, ...args]);
    expect(a.code).toBe(0);
    expect(values(a.stdout)).toEqual(values(b.stdout));
    expect(values(a.stdout)).not.toEqual(expected);
  });
  it('CSV: an unquoted NaN cell is a missing text, a quoted "NaN" is text', async () => {
    const path = file('nan.csv', 'id,prediction,reference\na,NaN,Lungs clear.\nb,"NaN",Lungs clear.\n');
    const r = await cli(['eval', '--pred', path, '--metrics', 'rougeL', '--json', '--bootstrap', '0']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('1 predictions are null/NaN, scored as empty text (a)');
    expect(JSON.parse(r.stdout).n).toBe(2);
  });
  it('joins on id regardless of order, with numeric ids', async () => {
    const p = file('p.jsonl', jsonl(rows.map((r, i) => ({ id: i, prediction: r.prediction })).reverse()));
    const f = file('r.jsonl', jsonl(rows.map((r, i) => ({ id: String(i), reference: r.reference }))));
    const r = await cli([
      'eval',
      '--pred',
      p,
      '--ref',
      f,
      '--metrics',
      'bleu4,rougeL',
      '--json',
      '--bootstrap',
      '0',
    ]);
    expect(r.code).toBe(0);
    const got = values(r.stdout);
    expect(got[0]).toBeCloseTo(expected[0]!, 10);
    expect(got[1]).toBeCloseTo(expected[1]!, 12);
  });
});

describe('cxr eval bad input: documented behaviour, clear messages, exit 2', () => {
  const pred = file(
    'bad-pred.jsonl',
    jsonl([
      { id: 'a', prediction: 'Lungs clear.' },
      { id: 'b', prediction: 'No effusion.' },
      { id: 'c', prediction: '' },
    ]),
  );
  const ref = file(
    'bad-ref.jsonl',
    jsonl([
      { id: 'a', reference: 'Lungs are clear.' },
      { id: 'c', reference: 'Normal.' },
      { id: 'd', reference: 'x' },
    ]),
  );

  it('ids in one file only: warned with examples, scored on the intersection', async () => {
    const r = await cli(['eval', '--pred', pred, '--ref', ref, '--metrics', 'rougeL', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('1 ids only in');
    expect(r.stderr).toContain('(b)');
    expect(r.stderr).toContain('(d)');
    expect(r.stderr).toContain('scoring the 2 ids present in both');
    expect(r.stderr).toContain('1 predictions are empty or whitespace (c)');
    const doc = JSON.parse(r.stdout);
    expect(doc.n).toBe(2);
    expect(doc.unmatched).toEqual({ predictionOnly: 1, referenceOnly: 1 });
    expect(doc.warnings).toHaveLength(2);
  });
  it('--require-all turns missing ids into an error', async () => {
    const r = await cli(['eval', '--pred', pred, '--ref', ref, '--require-all']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ids only in .*bad-pred\.jsonl \(b\)/);
  });
  it('a duplicate id names the id and both lines', async () => {
    const dup = file(
      'dup.jsonl',
      jsonl([
        { id: 'a', prediction: 'x' },
        { id: 'b', prediction: 'y' },
        { id: 'a', prediction: 'z' },
      ]),
    );
    const r = await cli(['eval', '--pred', dup, '--ref', ref]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('dup.jsonl: id: id a appears twice (lines 1 and 3)');
  });
  it('non-UTF-8 bytes name the file and line', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"id":"a","prediction":"ok"}\n{"id":"b","prediction":"caf'),
      Buffer.from([0xe9]),
      Buffer.from('"}\n'),
    ]);
    const r = await cli(['eval', '--pred', file('latin1.jsonl', bytes), '--ref', ref]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /latin1\.jsonl: line 2 is not valid UTF-8; expected UTF-8 text; found invalid byte sequence at byte offset 27 of the line/,
    );
  });
  it('a text over --max-chars is refused with its id, and accepted when the limit is raised', async () => {
    const long = file('long.jsonl', jsonl([{ id: 'a', prediction: 'word '.repeat(30_000) }]));
    const r = await cli(['eval', '--pred', long, '--ref', ref, '--metrics', 'rougeL']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('line 1 (id a): text of 150000 characters');
    const ok = await cli([
      'eval',
      '--pred',
      long,
      '--ref',
      ref,
      '--metrics',
      'bleu4,rougeL,cider',
      '--max-chars',
      '200000',
      '--json',
    ]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).n).toBe(1);
  });
  it('missing fields, bad JSON, unknown metrics and unclosed CSV quotes are clear errors', async () => {
    const noField = file('nofield.jsonl', jsonl([{ id: 'a', text: 'x' }]));
    const cases: [string[], RegExp][] = [
      [['--pred', noField, '--ref', ref], /line 1 \(id a\) has no 'prediction' field; found fields id, text/],
      [
        ['--pred', pred],
        /has no 'reference' field; expected 'prediction' and 'reference' in one file, or --ref FILE/,
      ],
      [
        ['--pred', file('broken.jsonl', '{"id": "a", "prediction": "x"\n'), '--ref', ref],
        /broken\.jsonl: line 1 is not valid JSON/,
      ],
      [['--pred', pred, '--ref', ref, '--metrics', 'bleu4,meteor'], /unknown metric meteor/],
      [['--pred', pred, '--ref', ref, '--metrics', ' , '], /--metrics: no metric named/],
      [
        ['--pred', file('open.csv', 'id,prediction,reference\na,"never closed,x\n'), '--metrics', 'bleu4'],
        /quoted field opened on line 2 is never closed/,
      ],
      [
        ['--pred', file('ids.jsonl', jsonl([{ prediction: 'x' }])), '--ref', ref],
        /line 1: missing or unusable id/,
      ],
      [
        ['--pred', file('semicolons.csv', 'id;prediction;reference\r\na;x;y\r\n'), '--metrics', 'bleu4'],
        /line 2: missing or unusable id; .*found no such field; the fields are "id;prediction;reference"/,
      ],
      [
        ['--pred', file('nothing-shared.jsonl', jsonl([{ id: 'zz', prediction: 'x' }])), '--ref', ref],
        /no id is in both files/,
      ],
      [['--pred', join(dir, 'absent.jsonl'), '--ref', ref], /absent\.jsonl: cannot read/],
      [['--ref', ref], /needs --pred FILE/],
      // 'é' typed as e + combining accent (NFD) looks the same as 'é' (NFC): the message says why they differ.
      [
        [
          '--pred',
          file('nfd.jsonl', jsonl([{ id: 'caf\u0065\u0301', prediction: 'x' }])),
          '--ref',
          file('nfc.jsonl', jsonl([{ id: 'caf\u00e9', reference: 'x' }])),
        ],
        /1 of them differ only in Unicode normalisation \(NFC\/NFD\) or surrounding spaces/,
      ],
      // A folder where a file belongs: named as a folder, with or without an extension or --format.
      [['--pred', dir, '--ref', ref], /: is a folder; expected a JSONL or CSV file/],
      [['--pred', dir, '--ref', ref, '--format', 'jsonl'], /: is a folder; expected a file/],
      [['--pred', folder('results.jsonl'), '--ref', ref], /results\.jsonl: is a folder; expected a file/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(['eval', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });
  it('empty texts score as the reference implementations do, with warnings', async () => {
    const p = file(
      'empty-p.jsonl',
      jsonl([
        { id: 'a', prediction: '' },
        { id: 'b', prediction: '  \n' },
      ]),
    );
    const f = file(
      'empty-r.jsonl',
      jsonl([
        { id: 'a', reference: 'Normal.' },
        { id: 'b', reference: '' },
      ]),
    );
    const r = await cli(['eval', '--pred', p, '--ref', f, '--metrics', 'bleu4,rougeL,cider', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.metrics.map((m: { point: number }) => m.point)).toEqual([0, 0, 0]);
    expect(doc.warnings).toEqual([
      '2 predictions are empty or whitespace (a, b)',
      '1 references are empty or whitespace (b)',
    ]);
  });
});
