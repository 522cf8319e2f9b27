/** Typed access to ../shared/data/metric-refs (read in place, never copied). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA } from '../helpers.js';

export const METRIC_REFS = join(DATA, 'metric-refs');

export type LabelRecord = Record<string, 1 | 0 | -1 | null>;
export interface Prf {
  precision: number;
  recall: number;
  fmeasure: number;
}
export interface RefPair {
  id: string;
  group: 'main' | 'edge';
  kind: string;
  prediction: string;
  reference: string;
  labels: { prediction: LabelRecord | null; reference: LabelRecord | null };
  f1_included: boolean;
  bleu4_sentence: number;
  bleu1_sentence: number;
  bleu4_pair_corpus: number;
  bleu1_pair_corpus: number;
  bleu4_stats: { counts: number[]; totals: number[]; sys_len: number; ref_len: number };
  rougeL: Prf;
  rougeL_stem: Prf;
  cider_d: number;
}

let cached: RefPair[] | undefined;
export function refPairs(): RefPair[] {
  cached ??= readFileSync(join(METRIC_REFS, 'dev.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as RefPair);
  return cached;
}

export function groupPairs(group: 'main' | 'edge'): RefPair[] {
  return refPairs().filter((p) => p.group === group);
}

// biome-ignore lint/suspicious/noExplicitAny: the summary is a deep JSON document read field by field in tests
export type Summary = any;
let summary: Summary;
export function refSummary(): Summary {
  summary ??= JSON.parse(readFileSync(join(METRIC_REFS, 'dev.summary.json'), 'utf8'));
  return summary;
}

/** Relative-or-absolute closeness: |a - b| <= tol * max(1, |b|). */
export function close(a: number, b: number, tol: number): boolean {
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));
}
