import { describe, expect, it } from 'vitest';
import {
  type AdditiveStats,
  bootstrapAdditive,
  bootstrapEstimate,
  bootstrapMany,
  bootstrapMean,
  comparePaired,
  Mt19937,
  median,
  Pcg64,
  pairwiseSum,
  percentile,
} from '../../../src/eval/stats/index.js';
import { seedSequenceWords } from '../../../src/eval/stats/pcg64.js';
import { groupPairs, refSummary } from '../metric-refs.js';

describe('Mt19937 with numpy legacy integer semantics', () => {
  it('reproduces numpy RandomState raw outputs and randint draws', () => {
    // np.random.RandomState(3).randint(0, 2**32, size=4, dtype=np.uint64)
    const raw = new Mt19937(3);
    expect([1, 2, 3, 4].map(() => raw.nextUint32())).toEqual([2365658986, 303761048, 3041471737, 3607553667]);
    // np.random.seed(3); randint(0, 600, 5); randint(0, 10, 3)
    const r = new Mt19937(3);
    expect([1, 2, 3, 4, 5].map(() => r.integer(600))).toEqual([249, 256, 119, 422, 480]);
    expect([1, 2, 3].map(() => r.integer(10))).toEqual([4, 7, 8]);
  });
  it('matches the reference MT19937 first output for seed 5489', () => {
    expect(new Mt19937(5489).nextUint32()).toBe(3499211612);
  });
  it('rejects seeds outside 32 bits', () => {
    expect(() => new Mt19937(-1)).toThrow(RangeError);
    expect(() => new Mt19937(2 ** 32)).toThrow(RangeError);
  });
});

describe('Pcg64 as numpy default_rng', () => {
  it('seeds through SeedSequence and draws like Generator.integers / choice', () => {
    // np.random.SeedSequence(12345).generate_state(4, np.uint64), as 32-bit words
    expect(Array.from(seedSequenceWords(12345, 8))).toEqual([
      0xa03d837c, 0xb5ae6482, 0xfa1f7a2f, 0xbbe2996f, 0x37158f94, 0x64e39a9f, 0xa013fd73, 0x3ebb0f96,
    ]);
    // np.random.default_rng(12345).integers(0, 2**32, size=4, dtype=np.uint64)
    const raw = new Pcg64(12345);
    expect([1, 2, 3, 4].map(() => raw.nextUint32())).toEqual([3003105693, 976400781, 3387213022, 1360466709]);
    // np.random.default_rng(12345).choice(600, size=10)
    const g = new Pcg64(12345);
    expect(Array.from({ length: 10 }, () => g.integer(600))).toEqual([
      419, 136, 473, 190, 122, 478, 385, 405, 593, 234,
    ]);
  });
});

describe('numpy order statistics', () => {
  const a = [
    0.5488135039273248, 0.7151893663724195, 0.6027633760716439, 0.5448831829968969, 0.4236547993389047,
    0.6458941130666561, 0.4375872112626925,
  ];
  it('percentile and median equal np.percentile / np.median', () => {
    expect(percentile(a, ((1 - 0.95) / 2) * 100)).toBe(0.4257446611274729);
    expect(percentile(a, (1 - (1 - 0.95) / 2) * 100)).toBe(0.704795078376555);
    expect(median(a)).toBe(0.5488135039273248);
    expect(median([1, 2, 3, 4])).toBe(2.5);
  });
  it('pairwise summation groups like numpy', () => {
    // 0.1 summed 10 times: numpy's pairwise result differs from a left-to-right loop
    const tenths = new Array(10).fill(0.1);
    expect(pairwiseSum(tenths)).toBe(1);
    expect(tenths.reduce((s, v) => s + v, 0)).not.toBe(1);
  });
});

describe('bootstrap reproduces LLaVA-Rad ROUGE-L intervals (rouge_score BootstrapAggregator, np seed 3)', () => {
  for (const [group, key] of [
    ['main', 'rougeL'],
    ['main', 'rougeL_stem'],
    ['edge', 'rougeL'],
  ] as const) {
    it(`${group} ${key}: low / mid / high equal the reference`, () => {
      const ref = refSummary().groups[group][key].bootstrap;
      for (const field of ['precision', 'recall', 'fmeasure'] as const) {
        const values = groupPairs(group).map((p) => p[key][field]);
        const e = bootstrapMean(values, 'mid');
        expect(e.value).toBeCloseTo(ref.mid[field], 12);
        expect(e.low).toBeCloseTo(ref.low[field], 12);
        expect(e.high).toBeCloseTo(ref.high[field], 12);
      }
    });
  }
});

function meanStats(values: number[]): AdditiveStats {
  return { width: 1, rows: Float64Array.from(values), finalize: (s, n) => s[0]! / n };
}

describe('bootstrap conventions and paired tests', () => {
  const values = groupPairs('main').map((p) => p.rougeL.fmeasure);
  it('point convention reports the full-sample value inside its interval', () => {
    const e = bootstrapEstimate(meanStats(values), 'point');
    expect(e.value).toBeCloseTo(refSummary().groups.main.rougeL.mean_f, 12);
    expect(e.low).toBeLessThan(e.value);
    expect(e.high).toBeGreaterThan(e.value);
    expect(e).toMatchObject({ resamples: 500, seed: 3, confidence: 0.95 });
  });
  it('is deterministic for a seed and changes with the seed', () => {
    const a = bootstrapEstimate(meanStats(values), 'point', { seed: 7 });
    expect(bootstrapEstimate(meanStats(values), 'point', { seed: 7 })).toEqual(a);
    expect(bootstrapEstimate(meanStats(values), 'point', { seed: 8 }).low).not.toBe(a.low);
  });
  it('a system against itself differs by 0 with p = 1; a shifted one is significant', () => {
    const same = comparePaired(meanStats(values), meanStats(values), { trials: 200 });
    expect(same).toMatchObject({ difference: 0, low: 0, high: 0, pValue: 1 });
    const better = comparePaired(meanStats(values.map((v) => v + 0.05)), meanStats(values), { trials: 200 });
    expect(better.difference).toBeCloseTo(0.05, 12);
    expect(better.low).toBeGreaterThan(0.04);
    expect(better.pValue).toBeCloseTo(1 / 201, 12);
  });
  it('paired p-value is large for two noisy copies with no systematic difference', () => {
    const shuffled = [...values].reverse();
    const p = comparePaired(meanStats(values), meanStats(shuffled), { trials: 300 }).pValue;
    expect(p).toBeGreaterThan(0.9);
  });
});

describe('bootstrapMany', () => {
  it('equals separate bootstraps for dense and sparse statistics', () => {
    const values = groupPairs('main').map((p) => p.rougeL.fmeasure);
    const dense = meanStats(values);
    // mostly zeros: the sparse path
    const sparse: AdditiveStats = {
      width: 3,
      rows: Float64Array.from(values.flatMap((v, i) => [i % 7 === 0 ? v : 0, 0, i % 11 === 0 ? 1 : 0])),
      finalize: (s, n) => (s[0]! + s[2]!) / n,
    };
    const [d, s] = bootstrapMany([dense, sparse]);
    expect(d).toEqual(bootstrapAdditive(dense));
    expect(s).toEqual(bootstrapAdditive(sparse));
  });
});
