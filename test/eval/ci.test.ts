/**
 * Confidence intervals of `evaluate` against the reference CIs in metric-refs: ROUGE-L and label F1 intervals
 * are reproduced exactly (same generator and draws as LLaVA-Rad's numpy/scipy calls); sacrebleu's BLEU interval
 * uses numpy's PCG64 stream, which cxr does not reproduce, so its width must agree within 10%.
 */
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/eval/index.js';
import { groupPairs, refSummary } from './metric-refs.js';

const WIDTH_TOLERANCE = 0.1;

describe('bootstrap intervals of cxr eval vs metric-refs', () => {
  for (const group of ['main', 'edge'] as const) {
    const pairs = groupPairs(group);
    const result = evaluate(
      pairs.map((p) => p.prediction),
      pairs.map((p) => p.reference),
      { metrics: ['bleu1', 'bleu4', 'rougeL', 'rougeL-stem', 'cider'] },
    );
    const byName = Object.fromEntries(result.metrics.map((m) => [m.name, m]));
    const ref = refSummary().groups[group];

    for (const key of ['bleu1', 'bleu4'] as const) {
      it(`${group} ${key}: full-sample corpus value, interval width within 10% of sacrebleu's`, () => {
        const m = byName[key]!;
        const want = ref[key].bootstrap.llava_rad;
        expect(Math.abs(m.value - want.median)).toBeLessThan(1e-4);
        const width = m.high - m.low;
        const refWidth = want.ci_h - want.ci_l;
        expect(Math.abs(width / refWidth - 1)).toBeLessThan(WIDTH_TOLERANCE);
      });
    }
    for (const [name, key] of [
      ['rougeL', 'rougeL'],
      ['rougeL-stem', 'rougeL_stem'],
    ] as const) {
      it(`${group} ${name}: bootstrap mid and interval equal rouge_score's (seed 3)`, () => {
        const m = byName[name]!;
        const want = ref[key].bootstrap.llava_rad;
        expect(m.value).toBeCloseTo(want.median, 12);
        expect(m.low).toBeCloseTo(want.ci_l, 12);
        expect(m.high).toBeCloseTo(want.ci_h, 12);
        expect(m.point).toBeCloseTo(ref[key].mean_f, 12);
      });
    }
    it(`${group} cider: full-sample value inside its interval`, () => {
      const m = byName.cider!;
      expect(m.value).toBeCloseTo(ref.cider_d.score, 9);
      expect(m.low).toBeLessThan(m.value);
      expect(m.high).toBeGreaterThan(m.value);
    });
  }
});
