/** Renderings of a CheXprompt run: a terminal table, a JSON document and per-report JSONL rows. */
import type { SchedulerStats } from '../../judge/index.js';
import { alignColumns } from '../format.js';
import type { ChexpromptAggregate } from './aggregate.js';
import { ERROR_TYPE_NAMES, ERROR_TYPES, SIGNIFICANCE } from './counts.js';
import type { ChexpromptReport } from './metric.js';
import type { ReportResult } from './run.js';

export interface RunFacts {
  seconds: number;
  scheduler?: SchedulerStats;
  warnings: string[];
}

const HEADLINES: [string, string][] = [
  ['mean_significant', 'mean clinically significant errors per report'],
  ['mean_total', 'mean errors per report (all)'],
  ['share_no_significant', 'share of reports without a significant error'],
  ['share_no_error', 'share of reports without any error'],
  ['mean_insignificant', 'mean clinically insignificant errors per report'],
];

const METRIC_HEADER = ['metric', 'value', '95% CI', 'meaning'];
const fmt = (v: number) => v.toFixed(4);

/** Failed reports by kind (unparseable, judge_error, refused). */
export function failureCounts(results: readonly ReportResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) if (r.status === 'failed') counts[r.failure] = (counts[r.failure] ?? 0) + 1;
  return counts;
}

function metricRows(agg: ChexpromptAggregate): string[][] {
  const rows: string[][] = [];
  const add = (name: string, label: string) => {
    const e = agg.metrics[name];
    if (e) rows.push([name, fmt(e.value), `[${fmt(e.low)}, ${fmt(e.high)}]`, label]);
  };
  for (const [name, label] of HEADLINES) add(name, label);
  for (const s of SIGNIFICANCE)
    for (const t of ERROR_TYPES) add(`mean_${s}_${t}`, `${s}: ${ERROR_TYPE_NAMES[t]}`);
  return rows;
}

function failureText(results: readonly ReportResult[]): string {
  return Object.entries(failureCounts(results))
    .map(([kind, n]) => `${n} ${kind}`)
    .join(', ');
}

export function formatChexpromptTable(report: ChexpromptReport, facts: RunFacts): string {
  const { aggregate: agg, usage } = report;
  const lines = [
    `${agg.reports} reports: ${agg.scored} scored, ${agg.failed} failed${agg.failed > 0 ? ` (${failureText(report.results)}; not counted as zero errors, see --per-report)` : ''}`,
    '',
  ];
  lines.push(
    agg.scored > 0
      ? alignColumns([METRIC_HEADER, ...metricRows(agg)], METRIC_HEADER.length)
      : 'no report was scored',
  );
  const rate = facts.seconds > 0 ? agg.reports / facts.seconds : 0;
  lines.push(
    '',
    `judge calls ${usage.calls}, cache hits ${usage.cacheHits}, tokens ${usage.promptTokens} in / ${usage.completionTokens} out` +
      (usage.costUsd === undefined ? '' : `, cost $${usage.costUsd.toFixed(4)}`),
    `${facts.seconds.toFixed(1)} s, ${rate.toFixed(1)} reports/s`,
  );
  const s = facts.scheduler;
  if (s) {
    lines.push(
      `requests ${s.requests}, retries ${s.retries} (429: ${s.rateLimited}, 5xx: ${s.serverErrors}, timeouts: ${s.timeouts}, connection: ${s.connectionErrors})`,
    );
  }
  lines.push('', `signature: ${report.signature}`, '');
  return lines.join('\n');
}

export function chexpromptJson(report: ChexpromptReport, facts: RunFacts): string {
  const metrics = Object.fromEntries(
    Object.entries(report.aggregate.metrics).map(([k, e]) => [k, { value: e.value, ci: [e.low, e.high] }]),
  );
  const doc = {
    signature: report.signature,
    prompt_hash: report.promptHash,
    reports: report.aggregate.reports,
    scored: report.aggregate.scored,
    failed: report.aggregate.failed,
    failures: failureCounts(report.results),
    metrics,
    usage: report.usage,
    seconds: facts.seconds,
    scheduler: facts.scheduler,
    warnings: facts.warnings,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** One JSON line per report: the 12 counts and totals, or the failure with every raw answer. */
export function* chexpromptPerReport(results: readonly ReportResult[]): Generator<string> {
  for (const r of results) {
    const row =
      r.status === 'ok'
        ? { id: r.id, status: r.status, ...r.row, attempts: r.attempts, cached: r.cached, form: r.form }
        : {
            id: r.id,
            status: r.status,
            failure: r.failure,
            attempts: r.attempts,
            reason: r.reason,
            raw: r.raw,
          };
    yield `${JSON.stringify(row)}\n`;
  }
}
