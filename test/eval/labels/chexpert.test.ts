/**
 * Acceptance checks of the rule-based CheXpert labeler against the official labeler's output on the dev split
 * of IU X-ray findings (../shared/data/iu-xray/chexpert-labels.dev.jsonl), and the official sample reports.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  agreement,
  CHEXPERT_OBSERVATIONS,
  f1Target,
  type Labels14,
  labelReport,
  labelReports,
} from '../../../src/eval/labels/chexpert/index.js';
import { DATA } from '../../helpers.js';

interface Row {
  uid: number;
  text: string;
  labels: Labels14;
}

const rows: Row[] = readFileSync(join(DATA, 'iu-xray', 'chexpert-labels.dev.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Row);
const result = agreement(
  labelReports(rows.map((r) => r.text)),
  rows.map((r) => r.labels),
);

describe('CheXpert labeler vs the official labeler (IU X-ray dev findings)', () => {
  it('reads all 2,197 reference rows', () => {
    expect(rows).toHaveLength(2197);
  });

  it('agrees on at least 99.3% of report x observation cells', () => {
    expect(result.cellAgreement).toBeGreaterThanOrEqual(0.993);
  });

  it('agrees on non-blank cells too (reported; at least 97%)', () => {
    expect(result.nonBlankAgreement).toBeGreaterThanOrEqual(0.97);
  });

  it('finds exactly the mentions the official labeler finds (blank vs non-blank) for the 13 observations', () => {
    const predicted = labelReports(rows.map((r) => r.text));
    let mismatches = 0;
    rows.forEach((r, i) => {
      for (const o of CHEXPERT_OBSERVATIONS.slice(1)) {
        if ((r.labels[o] === null) !== (predicted[i]![o] === null)) mismatches++;
      }
    });
    expect(mismatches).toBe(0);
  });

  it('reaches the F1 target of every observation x class with 20 or more cases', () => {
    const below = result.classes
      .filter((c) => f1Target(c.support) !== undefined && c.f1 < f1Target(c.support)!)
      .map((c) => `${c.observation}/${c.class} n=${c.support} F1=${c.f1.toFixed(3)}`);
    expect(below).toEqual([]);
    expect(result.classes.filter((c) => f1Target(c.support) !== undefined).length).toBeGreaterThanOrEqual(25);
  });

  it('has binarised micro-F1 >= 0.95 in both uncertainty conventions', () => {
    expect(result.microF1UncertainNegative).toBeGreaterThanOrEqual(0.95);
    expect(result.microF1UncertainPositive).toBeGreaterThanOrEqual(0.95);
  });

  it('never outputs No Finding 0 and sets it only when nothing but support devices is found', () => {
    for (const r of rows) {
      const l = labelReport(r.text);
      expect(l['No Finding']).not.toBe(0);
      if (l['No Finding'] === 1) {
        for (const o of CHEXPERT_OBSERVATIONS.slice(1, -1)) expect([0, null]).toContain(l[o]);
      }
    }
  });
});
