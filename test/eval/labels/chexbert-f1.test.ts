import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CHEXBERT_CONDITIONS,
  CHEXBERT_CONDITIONS_5,
  chexbertF1Scores,
  chexbertReports,
  toBinary,
  toChexpertLabels,
} from '../../../src/eval/labels/chexbert.js';
import type { ClassificationReport } from '../../../src/eval/labels/chexbert-report.js';
import { CHEXPERT_OBSERVATIONS } from '../../../src/eval/labels/index.js';
import { FIXTURES } from '../../helpers.js';

const DIR = join(FIXTURES, 'oracle', 'chexbert-tiny');
const REPORT_TOLERANCE = 1e-9;

interface GoldenText {
  id: string;
  classes: number[];
  labels_rrg: number[];
  labels_rrg_plus: number[];
}
const golden = JSON.parse(readFileSync(join(DIR, 'chexbert_golden.json'), 'utf8')) as {
  conditions: string[];
  texts: GoldenText[];
};
const evaluate = JSON.parse(readFileSync(join(DIR, 'evaluate_golden.json'), 'utf8')) as Record<
  string,
  unknown
> & {
  pred_text_ids: string[];
  ref_text_ids: string[];
  conditions_14: string[];
  conditions_5: string[];
};
const classesOf = (ids: string[]) => ids.map((id) => golden.texts.find((t) => t.id === id)!.classes);

function expectReport(actual: ClassificationReport, expected: ClassificationReport): void {
  expect(Object.keys(actual)).toEqual(Object.keys(expected));
  for (const [key, row] of Object.entries(expected)) {
    for (const [field, value] of Object.entries(row)) {
      const got = actual[key]![field as keyof (typeof actual)[string]];
      expect(Math.abs(got - value), `${key} ${field}: ${got} vs ${value}`).toBeLessThanOrEqual(
        REPORT_TOLERANCE,
      );
    }
  }
}

describe('CheXbert labels and F1 (official rrg_eval conventions)', () => {
  it('uses the official condition order', () => {
    expect([...CHEXBERT_CONDITIONS]).toEqual(golden.conditions);
    expect([...CHEXBERT_CONDITIONS]).toEqual(evaluate.conditions_14);
    expect([...CHEXBERT_CONDITIONS_5]).toEqual(evaluate.conditions_5);
  });

  it('binarises the 46 golden class rows exactly as map_to_binary in both conventions', () => {
    expect(golden.texts).toHaveLength(46);
    for (const t of golden.texts) {
      expect(toBinary(t.classes, 'rrg')).toEqual(t.labels_rrg);
      expect(toBinary(t.classes, 'rrg+')).toEqual(t.labels_rrg_plus);
    }
  });

  it('maps classes to CheXpert values (blank, 1, 0, -1) in the rule labeler key order', () => {
    const labels = toChexpertLabels([0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(Object.keys(labels)).toEqual([...CHEXPERT_OBSERVATIONS]);
    expect(labels['Enlarged Cardiomediastinum']).toBeNull();
    expect([labels.Cardiomegaly, labels['Lung Opacity'], labels['Lung Lesion']]).toEqual([1, 0, -1]);
    expect(labels['No Finding']).toBe(1);
  });

  describe.each([
    ['rrg', '_rrg'],
    ['rrg+', '_rrg_plus'],
  ] as const)('convention %s', (convention, suffix) => {
    const refs = classesOf(evaluate.ref_text_ids);
    const preds = classesOf(evaluate.pred_text_ids);
    const reports = chexbertReports(refs, preds, convention);

    it('has the golden binary matrices', () => {
      expect(refs.map((c) => toBinary(c, convention))).toEqual(evaluate[`y_true${suffix}`]);
      expect(preds.map((c) => toBinary(c, convention))).toEqual(evaluate[`y_pred${suffix}`]);
    });
    it('reproduces the sklearn report over 14 observations to 1e-9', () => {
      expectReport(reports.report_14, evaluate[`report_14${suffix}`] as ClassificationReport);
    });
    it('reproduces the sklearn report over 5 observations to 1e-9', () => {
      expectReport(reports.report_5, evaluate[`report_5${suffix}`] as ClassificationReport);
    });
  });

  it('gives the evaluation suite F1 scores (8 names), equal to the sklearn reports', () => {
    const scores = chexbertF1Scores(classesOf(evaluate.ref_text_ids), classesOf(evaluate.pred_text_ids));
    const golden = (report: string, avg: string) =>
      (evaluate[report] as ClassificationReport)[`${avg} avg`]!['f1-score'];
    const expected: Record<string, number> = {};
    for (const [suffix, plus] of [
      ['', ''],
      ['_uncertain_pos', '_plus'],
    ]) {
      for (const n of [14, 5]) {
        for (const avg of ['micro', 'macro'])
          expected[`f1_${n}_${avg}${suffix}`] = golden(`report_${n}_rrg${plus}`, avg);
      }
    }
    expect(scores.map((s) => s.name).sort()).toEqual(Object.keys(expected).sort());
    for (const s of scores) {
      expect(Math.abs(s.value - expected[s.name]!), s.name).toBeLessThanOrEqual(REPORT_TOLERANCE);
      expect(s.signature.options.labeler).toBe('chexbert');
    }
  });
});
