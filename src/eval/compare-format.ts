/** `cxr compare` output: per-system values, then the paired differences, as a table, JSON, CSV or HTML. */
import type { Comparison, SystemResult } from './compare.js';
import { alignColumns, csvField, formatNumber } from './format.js';
import { renderHtml } from './html.js';

export interface ComparisonDocument {
  n: number;
  systems: SystemResult[];
  comparisons: Comparison[];
  warnings: string[];
  /** Approximate-randomisation trials behind the p-values. */
  trials: number;
}

const COMPARISON_HEADER = ['metric', 'systems', 'difference', '95% CI', 'p (AR)'];
const CSV_HEADER = 'metric,a,b,difference,ci_low,ci_high,p_value,trials,n,signature';

function formatP(p: number): string {
  return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}

function comparisonRows(cs: Comparison[]): string[][] {
  return cs.map((c) => [
    c.metric,
    `${c.a} - ${c.b}`,
    formatNumber(c.difference, c.scale),
    `[${formatNumber(c.low, c.scale)}, ${formatNumber(c.high, c.scale)}]`,
    formatP(c.pValue),
  ]);
}

/** Every system is scored with the same options, so the first system's signatures stand for all. */
function signatureOf(doc: ComparisonDocument, metric: string): string {
  return doc.systems[0]!.result.metrics.find((m) => m.name === metric)?.signature ?? '';
}

export function comparisonJson(doc: ComparisonDocument): string {
  const out = {
    n: doc.n,
    systems: doc.systems.map((s) => ({
      name: s.name,
      metrics: s.result.metrics.map((m) => ({
        name: m.name,
        value: m.value,
        ci: Number.isFinite(m.low) ? [m.low, m.high] : null,
        signature: m.signature,
      })),
    })),
    comparisons: doc.comparisons.map((c) => ({ ...c, signature: signatureOf(doc, c.metric) })),
    warnings: doc.warnings,
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}

export function comparisonCsv(doc: ComparisonDocument): string {
  const lines = [CSV_HEADER];
  for (const c of doc.comparisons) {
    const sig = csvField(signatureOf(doc, c.metric));
    lines.push(
      [
        c.metric,
        csvField(c.a),
        csvField(c.b),
        c.difference,
        c.low,
        c.high,
        c.pValue,
        c.trials,
        doc.n,
        sig,
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

export function comparisonTable(doc: ComparisonDocument): string {
  const perSystem = doc.systems.map(
    (s) =>
      `${s.name}: ${s.result.metrics.map((m) => `${m.name} ${formatNumber(m.value, m.scale)}`).join(', ')}`,
  );
  const sigs = doc.systems[0]!.result.metrics.map((m) => `  ${m.name}: ${m.signature}`);
  const table = alignColumns([COMPARISON_HEADER, ...comparisonRows(doc.comparisons)], 2);
  return `${doc.n} pairs, ${doc.systems.length} systems\n\n${perSystem.join('\n')}\n\n${table}\n\nSignatures (paired tests: ${doc.trials} randomisation trials):\n${sigs.join('\n')}\n`;
}

export function comparisonHtml(doc: ComparisonDocument, generatedBy: string): string {
  return renderHtml({
    title: 'cxr compare',
    n: doc.n,
    systems: doc.systems.map((s) => ({ name: s.name, metrics: s.result.metrics })),
    warnings: doc.warnings,
    extraTable: {
      caption: 'Paired differences',
      header: COMPARISON_HEADER,
      rows: comparisonRows(doc.comparisons),
    },
    generatedBy,
  });
}
