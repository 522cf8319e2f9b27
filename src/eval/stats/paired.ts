/**
 * Paired comparisons of two systems scored against the same references: bootstrap intervals of the difference
 * (same resample indices for both systems) and approximate-randomisation p-values (swap the two systems' outputs
 * per report with probability 1/2, as sacrebleu's paired_ar does).
 */
import {
  type AdditiveStats,
  additiveCount,
  type BootstrapOptions,
  pointValue,
  resampleIndices,
  resolveBootstrap,
  sumRows,
} from './bootstrap.js';
import { percentileOfSorted } from './quantile.js';
import { Mt19937 } from './rng.js';

export const DEFAULT_RANDOMISATION_TRIALS = 1000;

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
  const n = checkPaired(a, b);
  const out = new Float64Array(resolveBootstrap(options).resamples);
  const sa = new Float64Array(a.width);
  const sb = new Float64Array(b.width);
  let k = 0;
  for (const idx of resampleIndices(n, options)) {
    out[k++] = a.finalize(sumRows(a, idx, sa), n) - b.finalize(sumRows(b, idx, sb), n);
  }
  return out;
}

/** Two-sided approximate-randomisation p-value of value(A) - value(B). */
export function approximateRandomisation(
  a: AdditiveStats,
  b: AdditiveStats,
  options: PairedOptions = {},
): number {
  const n = checkPaired(a, b);
  const trials = options.trials ?? DEFAULT_RANDOMISATION_TRIALS;
  const rng = new Mt19937(resolveBootstrap(options).seed);
  const observed = Math.abs(pointValue(a) - pointValue(b));
  const { width } = a;
  const sa = new Float64Array(width);
  const sb = new Float64Array(width);
  let extreme = 0;
  for (let t = 0; t < trials; t++) {
    sa.fill(0);
    sb.fill(0);
    let bits = 0;
    for (let i = 0; i < n; i++) {
      if (i % 32 === 0) bits = rng.nextUint32();
      // one random bit per report decides whether A and B trade places
      const swap = (bits >>> (i % 32)) & 1;
      const [x, y] = swap ? [b.rows, a.rows] : [a.rows, b.rows];
      for (let j = 0; j < width; j++) {
        sa[j]! += x[i * width + j]!;
        sb[j]! += y[i * width + j]!;
      }
    }
    // a tiny tolerance so that ties with the observed difference count as extreme despite rounding
    if (Math.abs(a.finalize(sa, n) - b.finalize(sb, n)) >= observed - 1e-12) extreme++;
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
