/** Small numeric helpers shared by the accuracy benches (quant, kv-keys). */

/** xorshift32 uniform numbers in [0, 1) from `seed` (reproducible across runs and machines). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** |got - ref| / |ref| over all elements (roots of the summed squares). */
export function relativeError(ref: ArrayLike<number>, got: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num += (got[i]! - ref[i]!) ** 2;
    den += ref[i]! ** 2;
  }
  return Math.sqrt(num / den);
}
