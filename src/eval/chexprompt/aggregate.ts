/**
 * Corpus numbers from per-report counts: mean significant and total errors, the shares of reports with no
 * significant error and with no error at all, and per-type means, each with a bootstrap 95% interval over the
 * reports the judge scored. Failed reports are counted and shown, never scored as zero errors.
 */
import {
  type BootstrapOptions,
  bootstrapMean,
  type Estimate,
  mean,
  resolveBootstrap,
} from '../stats/index.js';
import { type CountRow, ERROR_TYPES, SIGNIFICANCE } from './counts.js';

export interface ChexpromptAggregate {
  reports: number;
  scored: number;
  failed: number;
  /** Metric name -> estimate; empty when nothing was scored. */
  metrics: Record<string, Estimate>;
}

/** The headline metrics, in display order; per-type means follow. */
export const HEADLINE_METRICS = [
  'mean_significant',
  'mean_total',
  'share_no_significant',
  'share_no_error',
] as const;

function metricColumns(rows: CountRow[]): Record<string, number[]> {
  const columns: Record<string, number[]> = {
    mean_significant: rows.map((r) => r.total_significant),
    mean_total: rows.map((r) => r.total),
    share_no_significant: rows.map((r) => (r.total_significant === 0 ? 1 : 0)),
    share_no_error: rows.map((r) => (r.total === 0 ? 1 : 0)),
    mean_insignificant: rows.map((r) => r.total_insignificant),
  };
  for (const s of SIGNIFICANCE) {
    for (const t of ERROR_TYPES)
      columns[`mean_${s}_${t}`] = rows.map((r) => r[`${s}_${t}` as keyof CountRow]);
  }
  return columns;
}

export function aggregate(
  scored: CountRow[],
  failed: number,
  bootstrap: BootstrapOptions = {},
): ChexpromptAggregate {
  const metrics: Record<string, Estimate> = {};
  if (scored.length > 0) {
    for (const [name, values] of Object.entries(metricColumns(scored))) {
      // Plain means: the full-sample value with a percentile interval (the 'point' convention).
      metrics[name] =
        bootstrap.resamples === 0
          ? withoutInterval(values, bootstrap)
          : bootstrapMean(values, 'point', bootstrap);
    }
  }
  return { reports: scored.length + failed, scored: scored.length, failed, metrics };
}

/** `--bootstrap 0`: the mean alone, its interval NaN (shown as "-" / null). */
function withoutInterval(values: number[], bootstrap: BootstrapOptions): Estimate {
  const value = mean(values);
  const { seed, confidence } = resolveBootstrap({ ...bootstrap, resamples: 1 });
  return {
    value,
    low: Number.NaN,
    high: Number.NaN,
    point: value,
    convention: 'point',
    resamples: 0,
    seed,
    confidence,
  };
}
