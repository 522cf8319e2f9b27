/**
 * Order statistics with NumPy's arithmetic, so percentiles of a bootstrap distribution equal the Python
 * reference's to the last bit: `np.percentile(method="linear")`, `np.median`, and the pairwise summation
 * behind `np.mean` of a contiguous vector.
 */

/** NumPy's pairwise-summation block: below it, 8 interleaved accumulators. */
const PAIRWISE_BLOCK = 128;
const UNROLL = 8;

/** `np.add.reduce` on a contiguous float64 vector (pairwise summation). */
export function pairwiseSum(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  if (n < UNROLL) {
    let s = 0;
    for (let i = 0; i < n; i++) s += a[start + i]!;
    return s;
  }
  if (n <= PAIRWISE_BLOCK) {
    const r = new Float64Array(UNROLL);
    for (let j = 0; j < UNROLL; j++) r[j] = a[start + j]!;
    let i = UNROLL;
    for (; i < n - (n % UNROLL); i += UNROLL) {
      for (let j = 0; j < UNROLL; j++) r[j]! += a[start + i + j]!;
    }
    let s = r[0]! + r[1]! + (r[2]! + r[3]!) + (r[4]! + r[5]! + (r[6]! + r[7]!));
    for (; i < n; i++) s += a[start + i]!;
    return s;
  }
  let half = Math.floor(n / 2);
  half -= half % UNROLL;
  return pairwiseSum(a, start, half) + pairwiseSum(a, start + half, n - half);
}

/** `np.mean` of a vector. */
export function mean(a: ArrayLike<number>): number {
  return pairwiseSum(a) / a.length;
}

function sortedCopy(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(a).sort();
}

/** `np.percentile(a, q)` with the default linear method; q in [0, 100]. */
export function percentile(a: ArrayLike<number>, q: number): number {
  return percentileOfSorted(sortedCopy(a), q);
}

export function percentileOfSorted(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const virtual = (n - 1) * (q / 100);
  const below = Math.floor(virtual);
  if (below >= n - 1) return sorted[n - 1]!;
  const a = sorted[below]!;
  const b = sorted[below + 1]!;
  const t = virtual - below;
  // numpy's _lerp: interpolate from the nearer end for numerical symmetry
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** `np.median`. */
export function median(a: ArrayLike<number>): number {
  return medianOfSorted(sortedCopy(a));
}

export function medianOfSorted(sorted: Float64Array): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
