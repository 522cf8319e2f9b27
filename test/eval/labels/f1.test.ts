/** Label F1 against sklearn / LLaVA-Rad values stored in metric-refs (363 labelled pairs of the main group). */
import { describe, expect, it } from 'vitest';
import {
  CHEXPERT_OBSERVATIONS,
  F1_LABEL_ORDER,
  type LabelConvention,
  type LabelRecord,
  labelF1Scores,
  llavaRadF1Name,
  perLabelReport,
} from '../../../src/eval/labels/index.js';
import { bootstrapEstimate } from '../../../src/eval/stats/index.js';
import { refPairs, refSummary } from '../metric-refs.js';

const included = refPairs().filter((p) => p.f1_included);
const preds = included.map((p) => p.labels.prediction as LabelRecord);
const refs = included.map((p) => p.labels.reference as LabelRecord);
const summary = refSummary().groups.main.chexpert_f1;
const REF_KEY: Record<LabelConvention, string> = {
  uncertain_neg: 'uncertain_as_negative',
  uncertain_pos: 'uncertain_as_positive',
};

describe('label F1 (sklearn semantics, LLaVA-Rad conventions)', () => {
  it('uses the reference label order and the 363 included pairs', () => {
    expect(F1_LABEL_ORDER).toEqual(summary.label_order);
    expect(included.length).toBe(summary.n_pairs);
  });

  it('orders the same 14 observations as the rule labeler, each once', () => {
    expect([...F1_LABEL_ORDER].sort()).toEqual([...CHEXPERT_OBSERVATIONS].sort());
  });

  const scores = labelF1Scores(preds, refs, 'reference-labels');
  it('names all eight numbers by subset, average and convention', () => {
    expect(scores.map((s) => s.name)).toEqual([
      'f1_14_micro',
      'f1_14_macro',
      'f1_5_micro',
      'f1_5_macro',
      'f1_14_micro_uncertain_pos',
      'f1_14_macro_uncertain_pos',
      'f1_5_micro_uncertain_pos',
      'f1_5_macro_uncertain_pos',
    ]);
  });

  for (const s of scores) {
    const convention: LabelConvention = s.name.endsWith('_uncertain_pos') ? 'uncertain_pos' : 'uncertain_neg';
    const o = s.signature.options;
    const refName = llavaRadF1Name(o.labels as 14 | 5, o.average as 'micro' | 'macro', convention);
    const ref = summary[REF_KEY[convention]][refName];
    it(`${s.name} (= ${refName}) equals sklearn exactly`, () => {
      expect(o.as).toBe(refName);
      expect(s.value).toBe(ref.f1);
    });
    it(`${s.name}: bootstrap median and 95% interval equal LLaVA-Rad's scipy bootstrap`, () => {
      const e = bootstrapEstimate(s.stats, s.convention);
      expect(e.value).toBeCloseTo(ref.bootstrap.median, 12);
      expect(e.low).toBeCloseTo(ref.bootstrap.ci_l, 12);
      expect(e.high).toBeCloseTo(ref.bootstrap.ci_h, 12);
    });
  }

  for (const convention of ['uncertain_neg', 'uncertain_pos'] as const) {
    it(`${convention}: per-label precision / recall / F1 / support equal classification_report_14`, () => {
      const report = perLabelReport(preds, refs, convention);
      const ref = summary[REF_KEY[convention]].classification_report_14;
      for (const name of F1_LABEL_ORDER) {
        const r = report[name]!;
        const want = ref[name];
        expect([r.precision, r.recall, r.f1, r.support], name).toEqual([
          want.precision,
          want.recall,
          want['f1-score'],
          want.support,
        ]);
      }
    });
  }

  it('treats blank and missing keys as negative, and uncertain per convention', () => {
    const p: LabelRecord[] = [{ Edema: -1 }, { Edema: 1 }];
    const r: LabelRecord[] = [{ Edema: 1 }, { Edema: null }];
    const byName = Object.fromEntries(labelF1Scores(p, r, 'x').map((s) => [s.name, s.value]));
    expect(byName.f1_14_micro).toBe(0); // tp 0, fp 1, fn 1
    expect(byName.f1_14_micro_uncertain_pos).toBe(2 / 3); // tp 1, fp 1, fn 0: P 1/2, R 1
  });
});
