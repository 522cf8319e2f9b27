/** The CheXprompt error taxonomy (SPEC.md §5) and the per-report count record. */

export const ERROR_TYPES = ['A', 'B', 'C', 'D', 'E', 'F'] as const;
export type ErrorType = (typeof ERROR_TYPES)[number];

/** What each letter means; the prompt's definitions elaborate these. */
export const ERROR_TYPE_NAMES: Record<ErrorType, string> = {
  A: 'false finding',
  B: 'omitted finding',
  C: 'wrong location or position',
  D: 'wrong severity',
  E: 'comparison not in the reference',
  F: 'omitted comparison describing a change',
};

export const SIGNIFICANCE = ['significant', 'insignificant'] as const;
export type Significance = (typeof SIGNIFICANCE)[number];

export type TypeCounts = Record<ErrorType, number>;
export type ErrorCounts = Record<Significance, TypeCounts>;

/** A count above this for one type in one report is not a judgement but a runaway answer. */
export const MAX_COUNT_PER_TYPE = 20;

export function zeroTypeCounts(): TypeCounts {
  return { A: 0, B: 0, C: 0, D: 0, E: 0, F: 0 };
}

export function sumTypes(c: TypeCounts): number {
  return ERROR_TYPES.reduce((s, t) => s + c[t], 0);
}

/** The flat per-report record: 12 counts and the totals. */
export interface CountRow {
  significant_A: number;
  significant_B: number;
  significant_C: number;
  significant_D: number;
  significant_E: number;
  significant_F: number;
  insignificant_A: number;
  insignificant_B: number;
  insignificant_C: number;
  insignificant_D: number;
  insignificant_E: number;
  insignificant_F: number;
  total_significant: number;
  total_insignificant: number;
  total: number;
}

export function countRow(c: ErrorCounts): CountRow {
  const row: Record<string, number> = {};
  for (const s of SIGNIFICANCE) for (const t of ERROR_TYPES) row[`${s}_${t}`] = c[s][t];
  const sig = sumTypes(c.significant);
  const insig = sumTypes(c.insignificant);
  return {
    ...(row as unknown as CountRow),
    total_significant: sig,
    total_insignificant: insig,
    total: sig + insig,
  };
}
