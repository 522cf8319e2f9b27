/**
 * Agreement of one labeler's output with reference labels: cell agreement, per observation x class F1 with the
 * confusion behind it, and binarised micro-F1 in both conventions (uncertain as negative / as positive).
 */
import { CHEXPERT_OBSERVATIONS, type Labels14, type LabelValue, type Observation } from './observations.js';

export const LABEL_CLASSES = [
  { name: 'positive', value: 1 },
  { name: 'negative', value: 0 },
  { name: 'uncertain', value: -1 },
] as const;

export type ClassName = (typeof LABEL_CLASSES)[number]['name'];

export interface ClassAgreement {
  observation: Observation;
  class: ClassName;
  /** Reference cells of this class. */
  support: number;
  tp: number;
  fp: number;
  fn: number;
  f1: number;
}

export interface Agreement {
  reports: number;
  cells: number;
  cellsEqual: number;
  cellAgreement: number;
  /** Cells where either side is not blank. */
  nonBlankCells: number;
  nonBlankEqual: number;
  nonBlankAgreement: number;
  classes: ClassAgreement[];
  /** Per observation: reference value (rows) x predicted value (columns), order 1, 0, -1, blank. */
  confusion: Record<Observation, number[][]>;
  microF1UncertainNegative: number;
  microF1UncertainPositive: number;
}

const VALUE_ORDER: LabelValue[] = [1, 0, -1, null];

function f1(tp: number, fp: number, fn: number): number {
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

function binarise(v: LabelValue, uncertainPositive: boolean): boolean {
  return v === 1 || (uncertainPositive && v === -1);
}

export function agreement(predicted: Labels14[], reference: Labels14[]): Agreement {
  if (predicted.length !== reference.length)
    throw new Error('agreement: predicted and reference differ in length');
  const confusion = Object.fromEntries(
    CHEXPERT_OBSERVATIONS.map((o) => [o, VALUE_ORDER.map(() => VALUE_ORDER.map(() => 0))]),
  ) as Record<Observation, number[][]>;
  let cellsEqual = 0;
  let nonBlankCells = 0;
  let nonBlankEqual = 0;
  const micro = { neg: { tp: 0, fp: 0, fn: 0 }, pos: { tp: 0, fp: 0, fn: 0 } };
  reference.forEach((ref, r) => {
    const pred = predicted[r]!;
    for (const o of CHEXPERT_OBSERVATIONS) {
      const a = ref[o] ?? null;
      const b = pred[o] ?? null;
      confusion[o][VALUE_ORDER.indexOf(a)]![VALUE_ORDER.indexOf(b)]!++;
      if (a === b) cellsEqual++;
      if (a !== null || b !== null) {
        nonBlankCells++;
        if (a === b) nonBlankEqual++;
      }
      for (const [key, unc] of [
        ['neg', false],
        ['pos', true],
      ] as const) {
        const x = binarise(a, unc);
        const y = binarise(b, unc);
        if (x && y) micro[key].tp++;
        else if (y) micro[key].fp++;
        else if (x) micro[key].fn++;
      }
    }
  });
  const classes: ClassAgreement[] = [];
  for (const o of CHEXPERT_OBSERVATIONS) {
    const m = confusion[o];
    for (const c of LABEL_CLASSES) {
      const k = VALUE_ORDER.indexOf(c.value);
      const tp = m[k]![k]!;
      const support = m[k]!.reduce((s, x) => s + x, 0);
      const predictedCount = m.reduce((s, row) => s + row[k]!, 0);
      classes.push({
        observation: o,
        class: c.name,
        support,
        tp,
        fp: predictedCount - tp,
        fn: support - tp,
        f1: f1(tp, predictedCount - tp, support - tp),
      });
    }
  }
  const cells = reference.length * CHEXPERT_OBSERVATIONS.length;
  return {
    reports: reference.length,
    cells,
    cellsEqual,
    cellAgreement: cells === 0 ? 1 : cellsEqual / cells,
    nonBlankCells,
    nonBlankEqual,
    nonBlankAgreement: nonBlankCells === 0 ? 1 : nonBlankEqual / nonBlankCells,
    classes,
    confusion,
    microF1UncertainNegative: f1(micro.neg.tp, micro.neg.fp, micro.neg.fn),
    microF1UncertainPositive: f1(micro.pos.tp, micro.pos.fp, micro.pos.fn),
  };
}

/** Minimum F1 the targets ask of a class with this many reference cases (undefined: no target). */
export function f1Target(support: number): number | undefined {
  if (support >= 100) return 0.9;
  if (support >= 20) return 0.75;
  return undefined;
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/** The agreement as a terminal report: summary, every class's F1 with its counts, and each confusion. */
export function formatAgreement(a: Agreement): string {
  const lines = [
    `reports ${a.reports}, cells ${a.cells}`,
    `cell agreement       ${pct(a.cellAgreement)} (${a.cellsEqual}/${a.cells})`,
    `non-blank agreement  ${pct(a.nonBlankAgreement)} (${a.nonBlankEqual}/${a.nonBlankCells})`,
    `micro-F1 (14, uncertain as negative) ${a.microF1UncertainNegative.toFixed(4)}`,
    `micro-F1 (14, uncertain as positive) ${a.microF1UncertainPositive.toFixed(4)}`,
    '',
    `${'observation'.padEnd(27)} ${'class'.padEnd(9)} ${'n'.padStart(5)} ${'tp'.padStart(5)} ${'fp'.padStart(4)} ${'fn'.padStart(4)}     F1  target`,
  ];
  for (const c of a.classes) {
    if (c.support === 0 && c.fp === 0) continue;
    const target = f1Target(c.support);
    const verdict = target === undefined ? '' : `${target.toFixed(2)} ${c.f1 >= target ? 'ok' : 'BELOW'}`;
    lines.push(
      `${c.observation.padEnd(27)} ${c.class.padEnd(9)} ${String(c.support).padStart(5)} ${String(c.tp).padStart(5)} ${String(c.fp).padStart(4)} ${String(c.fn).padStart(4)}  ${c.f1.toFixed(3)}  ${verdict}`,
    );
  }
  lines.push('', 'confusion (rows: reference, columns: predicted; order 1, 0, -1, blank)');
  for (const [o, m] of Object.entries(a.confusion)) {
    lines.push(
      `${o.padEnd(27)} ${m.map((row) => row.map((x) => String(x).padStart(5)).join('')).join('  |')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
