/**
 * Renderings of an evaluation: terminal table, JSON, CSV and per-report JSONL rows. Every number is
 * accompanied by its signature. (HTML lives in html.ts.)
 */
import type { EvalResult, MetricValue } from './evaluate.js';
import { F1_LABEL_ORDER } from './labels/index.js';

/** Digits shown in the table: BLEU on 0-100 with 2 decimals, fractions with 4. */
function digitsFor(scale: number): number {
  return scale >= 100 ? 2 : 4;
}

export function formatNumber(v: number, scale: number): string {
  return Number.isFinite(v) ? v.toFixed(digitsFor(scale)) : 'n/a';
}

const CONVENTION_LABEL: Record<string, string> = {
  median: 'bootstrap median',
  mid: 'bootstrap mid',
  corpus: 'corpus value',
  point: 'full-sample value',
  none: 'full-sample value',
};

export interface EvalDocument {
  n: number;
  metrics: MetricValue[];
  warnings: string[];
  inputs: Record<string, string | undefined>;
  unmatched?: { predictionOnly: number; referenceOnly: number };
}

/**
 * Align table cells: the first `leftColumns` columns left-aligned, the rest right-aligned. A left-aligned last
 * column is not padded, so no line ends in spaces.
 */
export function alignColumns(rows: string[][], leftColumns = 1): string {
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  const last = widths.length - 1;
  const cell = (c: string, j: number) =>
    j >= leftColumns ? c.padStart(widths[j]!) : j === last ? c : c.padEnd(widths[j]!);
  return rows.map((r) => r.map(cell).join('  ')).join('\n');
}

export function formatTable(doc: EvalDocument): string {
  const header = ['metric', 'value', '95% CI', 'reported as'];
  const rows = doc.metrics.map((m) => [
    m.name,
    formatNumber(m.value, m.scale),
    Number.isFinite(m.low) ? `[${formatNumber(m.low, m.scale)}, ${formatNumber(m.high, m.scale)}]` : '-',
    CONVENTION_LABEL[m.convention]!,
  ]);
  const sigs = doc.metrics.map((m) => `  ${m.name}: ${m.signature}`);
  return `${doc.n} pairs\n\n${alignColumns([header, ...rows])}\n\nSignatures:\n${sigs.join('\n')}\n`;
}

export function toJson(doc: EvalDocument): string {
  const metrics = doc.metrics.map((m) => ({
    name: m.name,
    value: finiteOrNull(m.value),
    ci: Number.isFinite(m.low) ? [m.low, m.high] : null,
    point: finiteOrNull(m.point),
    reported_as: m.convention,
    scale: m.scale,
    signature: m.signature,
  }));
  return `${JSON.stringify({ ...doc, metrics }, null, 2)}\n`;
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

export function csvField(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

export function toCsv(doc: EvalDocument): string {
  const lines = ['metric,value,ci_low,ci_high,point,reported_as,n,signature'];
  for (const m of doc.metrics) {
    const num = (v: number) => (Number.isFinite(v) ? String(v) : '');
    lines.push(
      [
        m.name,
        num(m.value),
        num(m.low),
        num(m.high),
        num(m.point),
        m.convention,
        String(doc.n),
        csvField(m.signature),
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Label values in CheXpert-observation order, compact: one of 1 / 0 / -1 / null per observation. */
function labelVector(record: Readonly<Record<string, number | null | undefined>>): (number | null)[] {
  return F1_LABEL_ORDER.map((name) => record[name] ?? null);
}

/**
 * Per-report JSONL: a first line `{"signatures": {...}, "label_order": [...]}` describing the per-pair values
 * (sentence-level BLEU with effective order, pair ROUGE-L F, pair CIDEr-D), then one row per pair.
 */
export function* perReportLines(ids: readonly string[], result: EvalResult): Generator<string> {
  const names = Object.keys(result.perPair);
  const signatures: Record<string, string> = {};
  for (const s of result.scores) {
    if (s.perPair)
      signatures[s.name] = result.metrics
        .find((m) => m.name === s.name)!
        .signature.replace(/\|bs:.*$/, '|per-pair');
  }
  const meta: Record<string, unknown> = { signatures };
  if (result.labels) meta.label_order = F1_LABEL_ORDER;
  yield `${JSON.stringify(meta)}\n`;
  for (let i = 0; i < ids.length; i++) {
    const row: Record<string, unknown> = { id: ids[i] };
    for (const name of names) row[name] = result.perPair[name]![i];
    if (result.labels) {
      row.labels_prediction = labelVector(result.labels.predictions[i]!);
      row.labels_reference = labelVector(result.labels.references[i]!);
    }
    yield `${JSON.stringify(row)}\n`;
  }
}
