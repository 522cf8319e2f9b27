/**
 * Confidence intervals of `evaluate` against the reference CIs in metric-refs. With the reference
 * implementations' generators (numpy default_rng(12345) for sacrebleu's BLEU, legacy seed 3 for rouge_score)
 * the intervals are reproduced exactly; with any other generator or seed the widths must agree within 10%.
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

    const other = evaluate(
      pairs.map((p) => p.prediction),
      pairs.map((p) => p.reference),
      { metrics: ['bleu1', 'bleu4'], bootstrap: { generator: 'mt19937', seed: 3 } },
    );
    for (const key of ['bleu1', 'bleu4'] as const) {
      it(`${group} ${key}: corpus value with sacrebleu's interval (mean +- half-width) reproduced`, () => {
        const m = byName[key]!;
        const want = ref[key].bootstrap;
        expect(m.signature).toContain('|bs:500|seed:12345|ci:0.95|rng:pcg64|report:corpus');
        expect(Math.abs(m.value - want.llava_rad.median)).toBeLessThan(1e-4);
        expect(m.low).toBeCloseTo(want.llava_rad.ci_l, 9);
        expect(m.high).toBeCloseTo(want.llava_rad.ci_h, 9);
        expect((m.high - m.low) / 2).toBeCloseTo(want.ci_halfwidth, 9);
      });
      it(`${group} ${key}: another generator gives an interval width within 10% of sacrebleu's`, () => {
        const m = other.metrics.find((x) => x.name === key)!;
        const want = ref[key].bootstrap.llava_rad;
        expect(m.signature).toContain('|seed:3|ci:0.95|rng:mt19937|');
        expect(Math.abs((m.high - m.low) / (want.ci_h - want.ci_l) - 1)).toBeLessThan(WIDTH_TOLERANCE);
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
