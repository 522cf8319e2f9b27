/**
 * Golden values from the official Python packages (sacrebleu 2.6.0, rouge_score, pycocoevalcap) on real
 * Open-I text and synthetic edge cases: ../shared/data/metric-refs (README there). Each group is its own corpus.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bleuMetric,
  bleuStats,
  ciderD,
  computeBleu,
  corpusBleu,
  lcsLength,
  porterStem,
  rougeL,
  rougeMetric,
  sentenceBleu,
} from '../../../src/eval/text/index.js';
import { close, groupPairs, METRIC_REFS, refPairs, refSummary } from '../metric-refs.js';

const BLEU_TOL = 1e-4; // on the 0-100 scale
const TOL = 1e-6;

function mismatches<T>(items: readonly T[], check: (t: T) => string | null): string[] {
  return items.map(check).filter((m): m is string => m !== null);
}

describe('BLEU (sacrebleu 13a, exp smoothing)', () => {
  it('per-pair n-gram statistics equal sacrebleu', () => {
    const bad = mismatches(refPairs(), (p) => {
      const s = bleuStats(p.prediction, p.reference, 4);
      const want = [
        p.bleu4_stats.sys_len,
        p.bleu4_stats.ref_len,
        ...p.bleu4_stats.counts,
        ...p.bleu4_stats.totals,
      ];
      return Array.from(s).join() === want.join() ? null : `${p.id} ${p.kind}: ${Array.from(s)} vs ${want}`;
    });
    expect(bad).toEqual([]);
  });
  it('sentence BLEU-1/4 and single-pair corpus BLEU-1/4 match every pair to 1e-4', () => {
    const bad = mismatches(refPairs(), (p) => {
      const got = {
        bleu4_sentence: sentenceBleu(p.prediction, p.reference, 4),
        bleu1_sentence: sentenceBleu(p.prediction, p.reference, 1),
        bleu4_pair_corpus: computeBleu(bleuStats(p.prediction, p.reference, 4), 4, false).score,
        bleu1_pair_corpus: computeBleu(bleuStats(p.prediction, p.reference, 1), 1, false).score,
      };
      const off = Object.entries(got).filter(
        ([k, v]) => !(Math.abs(v - p[k as keyof typeof got]) <= BLEU_TOL),
      );
      return off.length === 0
        ? null
        : `${p.id} ${p.kind}: ${off.map(([k, v]) => `${k} ${v} vs ${p[k as keyof typeof got]}`)}`;
    });
    expect(bad).toEqual([]);
  });
  for (const group of ['main', 'edge'] as const) {
    it(`${group}: corpus BLEU-1/4 with brevity penalty and precisions`, () => {
      const pairs = groupPairs(group);
      const preds = pairs.map((p) => p.prediction);
      const refs = pairs.map((p) => p.reference);
      for (const [order, key] of [
        [4, 'bleu4'],
        [1, 'bleu1'],
      ] as const) {
        const ref = refSummary().groups[group][key];
        const got = corpusBleu(preds, refs, order);
        expect(Math.abs(got.score - ref.score)).toBeLessThan(BLEU_TOL);
        expect(got.bp).toBeCloseTo(ref.bp, 12);
        expect([got.sysLen, got.refLen]).toEqual([ref.sys_len, ref.ref_len]);
        got.precisions.forEach((v, i) => {
          expect(v).toBeCloseTo(ref.precisions[i], 9);
        });
        expect(Math.abs(bleuMetric(order).score(preds, refs).value - ref.score)).toBeLessThan(BLEU_TOL);
      }
    });
  }
});

describe('ROUGE-L (rouge_score)', () => {
  for (const [key, stemmer] of [
    ['rougeL', false],
    ['rougeL_stem', true],
  ] as const) {
    it(`${key}: per-pair P/R/F of every pair to 1e-6`, () => {
      const bad = mismatches(refPairs(), (p) => {
        const got = rougeL(p.reference, p.prediction, { stemmer });
        const want = p[key];
        const ok = (['precision', 'recall', 'fmeasure'] as const).every((f) => close(got[f], want[f], TOL));
        return ok ? null : `${p.id} ${p.kind}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`;
      });
      expect(bad).toEqual([]);
    });
    for (const group of ['main', 'edge'] as const) {
      it(`${key} ${group}: corpus mean F`, () => {
        const pairs = groupPairs(group);
        const got = rougeMetric({ stemmer }).score(
          pairs.map((p) => p.prediction),
          pairs.map((p) => p.reference),
        );
        expect(got.value).toBeCloseTo(refSummary().groups[group][key].mean_f, 9);
      });
    }
  }
});

describe('NLTK Porter stemmer (NLTK_EXTENSIONS mode)', () => {
  it('gives NLTK 3.8 stems for every word of porter-stems.dev.tsv', () => {
    const rows = readFileSync(join(METRIC_REFS, 'porter-stems.dev.tsv'), 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => l.split('\t'));
    expect(rows.length).toBeGreaterThan(2000);
    expect(rows.filter((r) => r[2] === '1').length).toBe(19);
    const bad = rows
      .filter(([word, stem]) => porterStem(word!) !== stem)
      .map(([w, s]) => `${w}: ${porterStem(w!)} vs ${s}`);
    expect(bad).toEqual([]);
  });
  it('keeps the NLTK extensions (irregular forms, short words, y after consonants)', () => {
    expect(
      ['dying', 'skies', 'dies', 'flies', 'happy', 'enjoy', 'as', 'generalization'].map(porterStem),
    ).toEqual(['die', 'sky', 'die', 'fli', 'happi', 'enjoy', 'as', 'gener']);
  });
});

describe('CIDEr-D (pycocoevalcap)', () => {
  for (const group of ['main', 'edge'] as const) {
    it(`${group}: per-pair values (relative 1e-6) and corpus mean`, () => {
      const pairs = groupPairs(group);
      const got = ciderD(
        pairs.map((p) => p.prediction),
        pairs.map((p) => p.reference),
      );
      const bad = mismatches(pairs, (p) => {
        const v = got[pairs.indexOf(p)]!;
        return Math.abs(v - p.cider_d) <= TOL * Math.abs(p.cider_d) || Math.abs(v - p.cider_d) < 1e-12
          ? null
          : `${p.id} ${p.kind}: ${v} vs ${p.cider_d}`;
      });
      expect(bad).toEqual([]);
      const mean = got.reduce((s, v) => s + v, 0) / got.length;
      expect(mean).toBeCloseTo(refSummary().groups[group].cider_d.score, 9);
    });
  }
});

describe('bit-parallel LCS', () => {
  /** Textbook dynamic programme, the specification the bit-parallel version must equal. */
  function lcsTable(a: string[], b: string[]): number {
    let prev = new Array<number>(b.length + 1).fill(0);
    for (const x of a) {
      const cur = [0];
      b.forEach((y, j) => {
        cur.push(x === y ? prev[j]! + 1 : Math.max(prev[j + 1]!, cur[j]!));
      });
      prev = cur;
    }
    return prev[b.length]!;
  }
  it('equals the dynamic programme on random sequences across word boundaries', () => {
    let seed = 12345;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 16;
    };
    for (let trial = 0; trial < 300; trial++) {
      const alphabet = 2 + (next() % 6);
      const a = Array.from({ length: next() % 140 }, () => `w${next() % alphabet}`);
      const b = Array.from({ length: next() % 140 }, () => `w${next() % alphabet}`);
      expect(lcsLength(a, b), `${a.join(' ')} | ${b.join(' ')}`).toBe(lcsTable(a, b));
    }
  });
});
