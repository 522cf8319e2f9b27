/**
 * Bootstrap confidence intervals over reports, with the reporting conventions of the published evaluation
 * (SPEC.md §5/§6). Resample indices come from `Mt19937` (NumPy legacy semantics, default seed 3 as in
 * LLaVA-Rad's `run.py`), so for label F1 and ROUGE-L the intervals equal LLaVA-Rad's.
 */

import { Pcg64 } from './pcg64.js';
import { mean, medianOfSorted, percentileOfSorted } from './quantile.js';
import { Mt19937 } from './rng.js';

export const DEFAULT_RESAMPLES = 500;
/** LLaVA-Rad seeds numpy with 3 (rrg_eval/run.py) and passes random_state=3 to scipy's bootstrap. */
export const DEFAULT_SEED = 3;
export const DEFAULT_CONFIDENCE = 0.95;
/** (1 - 0.95) / 2 * 500 is 12.500000000000011 in float64: absorb such noise before flooring. */
const ORDER_STATISTIC_EPS = 1e-9;

/**
 * Where resample indices come from: `mt19937` = numpy's legacy RandomState (rouge_score, scipy in LLaVA-Rad),
 * `pcg64` = numpy's default_rng (sacrebleu's bootstrap).
 */
export type RngKind = 'mt19937' | 'pcg64';

export interface BootstrapOptions {
  resamples?: number;
  seed?: number;
  confidence?: number;
  generator?: RngKind;
}

/**
 * How the reported value and interval are derived from the bootstrap distribution:
 * - `median`: median of the distribution, percentile interval (label F1, RadGraph: scipy.stats.bootstrap);
 * - `mid`: 50th percentile, percentile interval (ROUGE-L: rouge_score BootstrapAggregator);
 * - `corpus`: full-sample value, interval = bootstrap mean ± half the spread of the 2.5%/97.5% order
 *   statistics (BLEU: sacrebleu);
 * - `point`: full-sample value, percentile interval (CIDEr-D and plain means).
 */
export type ReportConvention = 'median' | 'mid' | 'corpus' | 'point';

export interface Estimate {
  value: number;
  low: number;
  high: number;
  /** The value over all reports, whatever the convention reports. */
  point: number;
  convention: ReportConvention;
  resamples: number;
  seed: number;
  confidence: number;
}

export interface ResolvedBootstrap {
  resamples: number;
  seed: number;
  confidence: number;
  generator: RngKind;
}

export function resolveBootstrap(o: BootstrapOptions = {}): ResolvedBootstrap {
  const resamples = o.resamples ?? DEFAULT_RESAMPLES;
  const confidence = o.confidence ?? DEFAULT_CONFIDENCE;
  if (!Number.isInteger(resamples) || resamples < 1)
    throw new RangeError(`resamples must be >= 1: ${resamples}`);
  if (!(confidence > 0 && confidence < 1))
    throw new RangeError(`confidence must be in (0, 1): ${confidence}`);
  return { resamples, seed: o.seed ?? DEFAULT_SEED, confidence, generator: o.generator ?? 'mt19937' };
}

/** Signature fragment for a bootstrap setting, e.g. `bs:500|seed:3|ci:0.95`. */
export function bootstrapSignature(o: BootstrapOptions = {}): string {
  const r = resolveBootstrap(o);
  return `bs:${r.resamples}|seed:${r.seed}|ci:${r.confidence}|rng:${r.generator}`;
}

/**
 * Draw `resamples` index vectors of length n; each row consumes n draws in order, as numpy's
 * `randint(0, n, (B, n))` and `default_rng().choice(n, (B, n))` fill their output.
 */
export function* resampleIndices(n: number, options: BootstrapOptions = {}): Generator<Int32Array> {
  const { resamples, seed, generator } = resolveBootstrap(options);
  const rng = generator === 'pcg64' ? new Pcg64(seed) : new Mt19937(seed);
  const idx = new Int32Array(n);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) idx[i] = rng.integer(n);
    yield idx;
  }
}

/** Bootstrap distribution of any statistic of a resampled index vector. */
export function bootstrapDistribution(
  n: number,
  statistic: (indices: Int32Array) => number,
  options: BootstrapOptions = {},
): Float64Array {
  if (n < 1) throw new RangeError('bootstrap needs at least one item');
  const out = new Float64Array(resolveBootstrap(options).resamples);
  let b = 0;
  for (const idx of resampleIndices(n, options)) out[b++] = statistic(idx);
  return out;
}

/**
 * Per-item sufficient statistics whose element-wise sum determines the corpus value (BLEU n-gram counts,
 * label TP/FP/FN, a per-report score for means). Row-major: item i occupies rows[i*width .. (i+1)*width).
 */
export interface AdditiveStats {
  width: number;
  rows: Float64Array;
  /** the corpus value from summed rows; must not modify `sums` (statistics over the same rows share them) */
  finalize(sums: Float64Array, count: number): number;
}

export function additiveCount(s: AdditiveStats): number {
  return s.width === 0 ? 0 : s.rows.length / s.width;
}

/** Sum the rows named by `indices` (sequentially, as numpy reduces along axis 0). */
export function sumRows(
  s: AdditiveStats,
  indices: ArrayLike<number>,
  into = new Float64Array(s.width),
): Float64Array {
  into.fill(0);
  const { width, rows } = s;
  for (let k = 0; k < indices.length; k++) {
    const base = indices[k]! * width;
    for (let j = 0; j < width; j++) into[j]! += rows[base + j]!;
  }
  return into;
}

export function pointValue(s: AdditiveStats): number {
  const n = additiveCount(s);
  const all = new Int32Array(n).map((_, i) => i);
  return s.finalize(sumRows(s, all), n);
}

/** Bootstrap distribution of an additive statistic (no per-resample allocation). */
export function bootstrapAdditive(s: AdditiveStats, options: BootstrapOptions = {}): Float64Array {
  const sums = new Float64Array(s.width);
  const n = additiveCount(s);
  return bootstrapDistribution(n, (idx) => s.finalize(sumRows(s, idx, sums), n), options);
}

/** Below this share of non-zero entries, resample sums walk a sparse copy of the rows (label counts). */
const SPARSE_DENSITY = 0.5;

export interface RowWalker {
  /** add row i into sums */
  add(i: number, sums: Float64Array): void;
}

export function rowWalker(s: AdditiveStats): RowWalker {
  const { width, rows } = s;
  let nonZero = 0;
  for (const v of rows) if (v !== 0) nonZero++;
  if (nonZero >= rows.length * SPARSE_DENSITY) {
    return {
      add(i, sums) {
        const base = i * width;
        for (let j = 0; j < width; j++) sums[j]! += rows[base + j]!;
      },
    };
  }
  // CSR layout: the non-zero columns and values of each row; skipping zeros leaves every float sum unchanged
  const start = new Int32Array(additiveCount(s) + 1);
  const cols = new Int32Array(nonZero);
  const vals = new Float64Array(nonZero);
  let k = 0;
  for (let i = 0; i < start.length - 1; i++) {
    start[i] = k;
    for (let j = 0; j < width; j++) {
      const v = rows[i * width + j]!;
      if (v !== 0) {
        cols[k] = j;
        vals[k++] = v;
      }
    }
  }
  start[start.length - 1] = k;
  return {
    add(i, sums) {
      for (let q = start[i]!; q < start[i + 1]!; q++) sums[cols[q]!]! += vals[q]!;
    },
  };
}

/**
 * Bootstrap several additive statistics of the same reports on shared resamples (one pass of the generator).
 * Each distribution equals what `bootstrapAdditive` gives for that statistic alone with the same seed.
 */
export function bootstrapMany(
  list: readonly AdditiveStats[],
  options: BootstrapOptions = {},
): Float64Array[] {
  if (list.length === 0) return [];
  const n = additiveCount(list[0]!);
  if (n < 1) throw new RangeError('bootstrap needs at least one item');
  for (const s of list) {
    if (additiveCount(s) !== n)
      throw new RangeError('bootstrapMany: statistics cover different numbers of items');
  }
  // statistics over the same rows (label F1: micro/macro x 14/5 share one count matrix) are summed once
  const uniqueRows = [...new Set(list.map((s) => s.rows))];
  const rowIndex = list.map((s) => uniqueRows.indexOf(s.rows));
  const firstOf = uniqueRows.map((rows) => list.find((s) => s.rows === rows)!);
  const walkers = firstOf.map(rowWalker);
  const sums = firstOf.map((s) => new Float64Array(s.width));
  const { resamples } = resolveBootstrap(options);
  const out = list.map(() => new Float64Array(resamples));
  let b = 0;
  for (const idx of resampleIndices(n, options)) {
    walkers.forEach((w, u) => {
      const acc = sums[u]!;
      acc.fill(0);
      for (let k = 0; k < n; k++) w.add(idx[k]!, acc);
    });
    list.forEach((s, m) => {
      out[m]![b] = s.finalize(sums[rowIndex[m]!]!, n);
    });
    b++;
  }
  return out;
}

/** Turn a bootstrap distribution into the reported value and interval under a convention. */
export function summarise(
  point: number,
  distribution: Float64Array,
  convention: ReportConvention,
  options: BootstrapOptions = {},
): Estimate {
  const r = resolveBootstrap(options);
  const sorted = Float64Array.from(distribution).sort();
  const alpha = (1 - r.confidence) / 2;
  let low = percentileOfSorted(sorted, alpha * 100);
  let high = percentileOfSorted(sorted, (1 - alpha) * 100);
  let value = point;
  if (convention === 'median') value = medianOfSorted(sorted);
  if (convention === 'mid') value = percentileOfSorted(sorted, 50);
  if (convention === 'corpus') [low, high] = sacrebleuInterval(distribution, sorted, alpha);
  return { value, low, high, point, convention, ...r };
}

/**
 * sacrebleu's estimate_ci: mean ± 0.5 * (s[n - n//40 - 1] - s[n//40]) of the sorted scores. sacrebleu fixes 95%
 * (n//40); other confidences cut floor(n * alpha) from each side.
 */
function sacrebleuInterval(
  distribution: Float64Array,
  sorted: Float64Array,
  alpha: number,
): [number, number] {
  const n = sorted.length;
  const cut = Math.floor(n * alpha + ORDER_STATISTIC_EPS);
  const m = mean(distribution);
  const half = 0.5 * (sorted[n - cut - 1]! - sorted[cut]!);
  return [m - half, m + half];
}

/** Bootstrap an additive statistic and report it under a convention. */
export function bootstrapEstimate(
  s: AdditiveStats,
  convention: ReportConvention,
  options: BootstrapOptions = {},
): Estimate {
  return summarise(pointValue(s), bootstrapAdditive(s, options), convention, options);
}

/** Mean of per-report values with a bootstrap interval (e.g. CheXprompt error counts). */
export function bootstrapMean(
  values: ArrayLike<number>,
  convention: ReportConvention = 'point',
  options: BootstrapOptions = {},
): Estimate {
  const stats: AdditiveStats = {
    width: 1,
    rows: Float64Array.from(values),
    finalize: (sums, count) => sums[0]! / count,
  };
  return bootstrapEstimate(stats, convention, options);
}
