import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CHEXBERT_CONDITIONS,
  CHEXBERT_CONDITIONS_5,
  chexbertF1,
  chexbertReports,
  toBinary,
  toChexpertLabels,
} from '../../../src/eval/labels/chexbert.js';
import type { ClassificationReport } from '../../../src/eval/labels/chexbert-report.js';
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

  it('maps classes to CheXpert values (blank, 1, 0, -1)', () => {
    const labels = toChexpertLabels([0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
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

  it('names the headline F1 values as the evaluation suite does', () => {
    const f1 = chexbertF1(classesOf(evaluate.ref_text_ids), classesOf(evaluate.pred_text_ids));
    const r = (k: string) => (evaluate[k] as ClassificationReport)['micro avg']!['f1-score'];
    expect(f1.f1_14_micro).toBeCloseTo(r('report_14_rrg'), 12);
    expect(f1.f1_5_micro_uncertain_pos).toBeCloseTo(r('report_5_rrg_plus'), 12);
    expect(Object.keys(f1).sort()).toEqual(
      [
        'f1_14_macro',
        'f1_14_macro_uncertain_pos',
        'f1_14_micro',
        'f1_14_micro_uncertain_pos',
        'f1_5_macro',
        'f1_5_macro_uncertain_pos',
        'f1_5_micro',
        'f1_5_micro_uncertain_pos',
      ].sort(),
    );
  });
});
