import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Item, makeDicom, SYNTAX, testPattern } from '../../bench/support/make-dicom.js';
import { cli, DATA } from '../helpers.js';

const IMG = join(DATA, 'images');
const SIIM = join(IMG, '1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm');

describe('cxr inspect', () => {
  it('prints the DICOM metadata and an accepting verdict (exit 0)', async () => {
    const r = await cli(['inspect', SIIM]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Modality: CR');
    expect(r.stdout).toContain('ViewPosition: PA');
    expect(r.stdout).toContain('BodyPartExamined: CHEST');
    expect(r.stdout).toContain('PhotometricInterpretation: MONOCHROME2');
    expect(r.stdout).toContain('size: 1024x1024');
    expect(r.stdout).toContain('1.2.840.10008.1.2.4.50 (JPEG Baseline (Process 1))');
    expect(r.stdout).toContain('verdict: frontal');
  });

  it('--json gives one row per file, with errors for unreadable ones, and exit 2 if any fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cxr-inspect-'));
    const text = join(dir, 'notes.dcm');
    writeFileSync(text, 'this is a text file, not a DICOM\n');
    const r = await cli(['inspect', '--json', join(IMG, '00000001_000.png'), text]);
    expect(r.code).toBe(2);
    const rows = JSON.parse(r.stdout) as Array<{
      ok: boolean;
      metadata?: { format: string };
      error?: { code: string };
    }>;
    expect(rows).toHaveLength(2);
    expect(rows[0]!.ok).toBe(true);
    expect(rows[0]!.metadata!.format).toBe('png');
    expect(rows[1]!.ok).toBe(false);
    expect(rows[1]!.error!.code).toBe('image.unknown_format');
  });

  it('flags a lateral DICOM (exit 2) unless --allow-lateral', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cxr-inspect-'));
    const f = join(dir, 'lat.dcm');
    writeFileSync(
      f,
      await makeDicom(
        { width: 8, height: 8, values: testPattern(8, 8), viewPosition: 'LL' },
        SYNTAX.explicitLE,
      ),
    );
    const r = await cli(['inspect', f]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('verdict: lateral (refused)');
    expect(r.stdout).toMatch(/lateral view; the model was trained on frontal/);
    expect((await cli(['inspect', '--allow-lateral', f])).code).toBe(0);
  });

  it('refuses a CT slice with the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cxr-inspect-'));
    const f = join(dir, 'ct.dcm');
    writeFileSync(
      f,
      await makeDicom({ width: 8, height: 8, values: testPattern(8, 8), modality: 'CT' }, SYNTAX.explicitLE),
    );
    const r = await cli(['inspect', f]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('Modality CT: a CT slice, not a chest radiograph');
  });

  it('has --help', async () => {
    const r = await cli(['inspect', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--json');
  });
});

describe('cxr inspect --decode and coded views', () => {
  it('--decode reports the grey mapping, and catches pixel data that does not decode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cxr-inspect-'));
    const ok = await cli(['inspect', '--decode', SIIM]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('grey mapping: min..max 0..254');
    const good = await makeDicom(
      { width: 16, height: 16, values: testPattern(16, 16), bitsStored: 12 },
      SYNTAX.jpegLs,
    );
    const bad = Uint8Array.from(good);
    bad.fill(0x55, bad.length - 60, bad.length - 8); // scramble the JPEG-LS scan, keep the delimiter
    const f = join(dir, 'bad-ls.dcm');
    writeFileSync(f, bad);
    expect((await cli(['inspect', f])).code).toBe(0); // the header is fine
    const r = await cli(['inspect', '--decode', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad-ls.dcm');
  });

  it('uses ViewCodeSequence when ViewPosition is empty', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cxr-inspect-'));
    const f = join(dir, 'coded-lat.dcm');
    const extra: Item = [['00540220', 'SQ', [[['00080104', 'LO', 'left lateral']]]]];
    writeFileSync(
      f,
      await makeDicom(
        { width: 8, height: 8, values: testPattern(8, 8), viewPosition: '', extra },
        SYNTAX.explicitLE,
      ),
    );
    const r = await cli(['inspect', f]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('view code "left lateral": a lateral view');
  });
});
