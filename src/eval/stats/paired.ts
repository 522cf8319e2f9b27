/**
 * Paired comparisons of two systems scored against the same references: bootstrap intervals of the difference
 * (same resample indices for both systems) and approximate-randomisation p-values (swap the two systems' outputs
 * per report with probability 1/2, as sacrebleu's paired_ar does).
 */
import {
  type AdditiveStats,
  additiveCount,
  type BootstrapOptions,
  bootstrapMany,
  pointValue,
  resolveBootstrap,
  rowWalker,
  sumRows,
} from './bootstrap.js';
import { percentileOfSorted } from './quantile.js';
import { Mt19937 } from './rng.js';

export const DEFAULT_RANDOMISATION_TRIALS = 1000;
const TIE_TOLERANCE = 1e-12;

export interface PairedDifference {
  /** value(A) - value(B) over all reports */
  difference: number;
  low: number;
  high: number;
  /** approximate-randomisation p-value (two-sided), (c + 1) / (trials + 1) */
  pValue: number;
  trials: number;
  resamples: number;
  seed: number;
  confidence: number;
}

export interface PairedOptions extends BootstrapOptions {
  trials?: number;
}

function checkPaired(a: AdditiveStats, b: AdditiveStats): number {
  const n = additiveCount(a);
  if (n !== additiveCount(b) || a.width !== b.width) {
    throw new RangeError(
      `paired statistics differ in shape: ${n} x ${a.width} vs ${additiveCount(b)} x ${b.width}`,
    );
  }
  if (n < 1) throw new RangeError('paired comparison needs at least one report');
  return n;
}

/** Bootstrap distribution of value(A) - value(B) on shared resamples. */
export function pairedBootstrap(
  a: AdditiveStats,
  b: AdditiveStats,
  options: BootstrapOptions = {},
): Float64Array {
  checkPaired(a, b);
  const [da, db] = bootstrapMany([a, b], options);
  return da!.map((v, i) => v - db![i]!);
}

/**
 * Two-sided approximate-randomisation p-value of value(A) - value(B). Swapping report i moves row d_i = b_i - a_i
 * from B's sums to A's, so each trial only walks the rows where the systems differ (sparse for label counts).
 */
export function approximateRandomisation(
  a: AdditiveStats,
  b: AdditiveStats,
  options: PairedOptions = {},
): number {
  const n = checkPaired(a, b);
  const trials = options.trials ?? DEFAULT_RANDOMISATION_TRIALS;
  const rng = new Mt19937(resolveBootstrap(options).seed);
  const { width } = a;
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const baseA = sumRows(a, all);
  const baseB = sumRows(b, all);
  const observed = Math.abs(a.finalize(baseA, n) - b.finalize(baseB, n));
  const diff: AdditiveStats = { width, rows: b.rows.map((v, k) => v - a.rows[k]!), finalize: () => 0 };
  const walker = rowWalker(diff);
  const delta = new Float64Array(width);
  const sa = new Float64Array(width);
  const sb = new Float64Array(width);
  let extreme = 0;
  for (let t = 0; t < trials; t++) {
    delta.fill(0);
    let bits = 0;
    for (let i = 0; i < n; i++) {
      if (i % 32 === 0) bits = rng.nextUint32();
      // one random bit per report decides whether A and B trade places
      if ((bits >>> (i % 32)) & 1) walker.add(i, delta);
    }
    for (let j = 0; j < width; j++) {
      sa[j] = baseA[j]! + delta[j]!;
      sb[j] = baseB[j]! - delta[j]!;
    }
    // a tiny tolerance so that ties with the observed difference count as extreme despite rounding
    if (Math.abs(a.finalize(sa, n) - b.finalize(sb, n)) >= observed - TIE_TOLERANCE) extreme++;
  }
  return (extreme + 1) / (trials + 1);
}

/** Difference, bootstrap interval and randomisation p-value in one call. */
export function comparePaired(
  a: AdditiveStats,
  b: AdditiveStats,
  options: PairedOptions = {},
): PairedDifference {
  const r = resolveBootstrap(options);
  const dist = pairedBootstrap(a, b, options).sort();
  const alpha = (1 - r.confidence) / 2;
  const trials = options.trials ?? DEFAULT_RANDOMISATION_TRIALS;
  return {
    difference: pointValue(a) - pointValue(b),
    low: percentileOfSorted(dist, alpha * 100),
    high: percentileOfSorted(dist, (1 - alpha) * 100),
    pValue: approximateRandomisation(a, b, options),
    trials,
    ...r,
  };
}
