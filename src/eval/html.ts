/**
 * A self-contained HTML report: inline CSS and one inline SVG bar chart per metric (a bar per system with its
 * confidence interval as a whisker). No scripts, fonts or external assets, so the file can be mailed or archived.
 */
import type { MetricValue } from './evaluate.js';
import { formatNumber } from './format.js';

export interface HtmlSystem {
  name: string;
  metrics: MetricValue[];
}

export interface HtmlReport {
  title: string;
  n: number;
  systems: HtmlSystem[];
  warnings: string[];
  /** extra rows (e.g. paired differences) rendered as a table under the charts */
  extraTable?: { caption: string; header: string[]; rows: string[][] };
  generatedBy: string;
}

const CHART_WIDTH = 520;
const LABEL_WIDTH = 150;
const BAR_HEIGHT = 18;
const BAR_GAP = 8;
const AXIS_HEIGHT = 22;
/** Longest system label that fits left of the bars at 12px. */
const LABEL_CHARS = 22;
const COLORS = ['#3b6ea5', '#c0713a', '#4d8f5b', '#8a5aa6', '#a64d5a', '#5a8aa6'];

export function escapeHtml(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

/** Axis end: the metric's natural range (0-100 BLEU, 0-1 fractions), widened for CIDEr-D's open scale. */
function axisMax(values: MetricValue[]): number {
  const scale = values[0]!.scale;
  if (scale === 100 || scale === 1) return scale;
  const top = Math.max(...values.map((v) => (Number.isFinite(v.high) ? v.high : v.value)), 1e-9);
  const step = 10 ** Math.floor(Math.log10(top));
  return Math.ceil((top * 1.1) / step) * step;
}

function shorten(label: string): string {
  return label.length <= LABEL_CHARS ? label : `…${label.slice(-(LABEL_CHARS - 1))}`;
}

function chart(metric: string, bars: { system: string; v: MetricValue }[]): string {
  const max = axisMax(bars.map((b) => b.v));
  const plot = CHART_WIDTH - LABEL_WIDTH - 20;
  const x = (v: number) => LABEL_WIDTH + (Math.min(Math.max(v, 0), max) / max) * plot;
  const height = bars.length * (BAR_HEIGHT + BAR_GAP) + AXIS_HEIGHT;
  const parts: string[] = [];
  bars.forEach(({ system, v }, i) => {
    const y = i * (BAR_HEIGHT + BAR_GAP) + 4;
    const mid = y + BAR_HEIGHT / 2;
    const color = COLORS[i % COLORS.length]!;
    const value = Number.isFinite(v.value) ? v.value : 0;
    parts.push(
      `<text x="${LABEL_WIDTH - 6}" y="${mid + 4}" text-anchor="end">${escapeHtml(shorten(system))}<title>${escapeHtml(system)}</title></text>`,
      `<rect x="${LABEL_WIDTH}" y="${y}" width="${(x(value) - LABEL_WIDTH).toFixed(1)}" height="${BAR_HEIGHT}" fill="${color}" opacity="0.8"><title>${escapeHtml(`${metric} ${formatNumber(v.value, v.scale)}`)}</title></rect>`,
    );
    if (Number.isFinite(v.low)) {
      const [lo, hi] = [x(v.low).toFixed(1), x(v.high).toFixed(1)];
      parts.push(
        `<line x1="${lo}" x2="${hi}" y1="${mid}" y2="${mid}" stroke="#222" stroke-width="1.5"/>`,
        `<line x1="${lo}" x2="${lo}" y1="${y + 3}" y2="${y + BAR_HEIGHT - 3}" stroke="#222" stroke-width="1.5"/>`,
        `<line x1="${hi}" x2="${hi}" y1="${y + 3}" y2="${y + BAR_HEIGHT - 3}" stroke="#222" stroke-width="1.5"/>`,
      );
    }
    parts.push(
      `<text x="${CHART_WIDTH - 4}" y="${mid + 4}" text-anchor="end">${formatNumber(v.value, v.scale)}</text>`,
    );
  });
  const axisY = height - AXIS_HEIGHT + 4;
  parts.push(
    `<line x1="${LABEL_WIDTH}" x2="${LABEL_WIDTH + plot}" y1="${axisY}" y2="${axisY}" stroke="#888"/>`,
    `<text x="${LABEL_WIDTH}" y="${axisY + 14}" text-anchor="middle">0</text>`,
    `<text x="${LABEL_WIDTH + plot}" y="${axisY + 14}" text-anchor="middle">${max}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${height}" viewBox="0 0 ${CHART_WIDTH} ${height}" role="img" aria-label="${escapeHtml(metric)}">${parts.join('')}</svg>`;
}

function table(header: string[], rows: string[][]): string {
  const th = header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export function renderHtml(r: HtmlReport): string {
  const names = r.systems[0]?.metrics.map((m) => m.name) ?? [];
  const sections = names.map((name) => {
    const bars = r.systems.map((s) => ({ system: s.name, v: s.metrics.find((m) => m.name === name)! }));
    const sig = bars[0]!.v.signature;
    const ci = bars
      .map(({ system, v }) =>
        Number.isFinite(v.low)
          ? `${system}: ${formatNumber(v.value, v.scale)} [${formatNumber(v.low, v.scale)}, ${formatNumber(v.high, v.scale)}]`
          : `${system}: ${formatNumber(v.value, v.scale)}`,
      )
      .join('; ');
    return `<section><h2>${escapeHtml(name)}</h2>${chart(name, bars)}<p class="ci">${escapeHtml(ci)}</p><p class="sig"><code>${escapeHtml(sig)}</code></p></section>`;
  });
  const warnings = r.warnings.length
    ? `<div class="warn"><strong>Warnings</strong><ul>${r.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul></div>`
    : '';
  const extra = r.extraTable
    ? `<h2>${escapeHtml(r.extraTable.caption)}</h2>${table(r.extraTable.header, r.extraTable.rows)}`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(r.title)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222;padding:0 1em}
h1{font-size:1.4em}h2{font-size:1.1em;margin:1.4em 0 .3em}
svg text{font:12px system-ui,sans-serif;fill:#222}
.sig code{font-size:11px;color:#555;word-break:break-all}.ci{margin:.2em 0}
.warn{background:#fff4e0;border:1px solid #e0b060;padding:.5em 1em;margin:1em 0}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}td:first-child,th:first-child{text-align:left}
</style></head><body>
<h1>${escapeHtml(r.title)}</h1>
<p>${r.n} pairs; 95% bootstrap confidence intervals shown as whiskers. ${escapeHtml(r.generatedBy)}</p>
${warnings}
${sections.join('\n')}
${extra}
</body></html>
`;
}
