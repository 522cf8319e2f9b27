/** The official labeler's 4 sample reports: `cxr label` reproduces labeled_reports.csv byte for byte. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labelReport } from '../../../src/eval/labels/chexpert/index.js';
import { cli, DATA } from '../../helpers.js';

const SAMPLES = join(DATA, 'chexpert-samples');

describe('chexpert-labeler sample reports', () => {
  it('writes labeled_reports.csv byte-exact from sample_reports.csv', async () => {
    const r = await cli(['label', join(SAMPLES, 'sample_reports.csv'), '--output-format', 'csv']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(SAMPLES, 'labeled_reports.csv'), 'utf8'));
  });

  it('labels the hedged sample as uncertain for both alternatives', () => {
    const l = labelReport(
      'Minimal patchy airspace disease within the lingula, may reflect atelectasis or consolidation.',
    );
    expect(l['Lung Opacity']).toBe(1);
    expect(l.Atelectasis).toBe(-1);
    expect(l.Consolidation).toBe(-1);
    expect(l['No Finding']).toBeNull();
  });
});
