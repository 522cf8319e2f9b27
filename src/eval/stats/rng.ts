/**
 * MT19937 with NumPy's legacy `RandomState` integer semantics.
 *
 * Why this generator: LLaVA-Rad's confidence intervals come from `np.random.seed(3)` + `np.random.choice`
 * (rouge_score's BootstrapAggregator) and `scipy.stats.bootstrap(random_state=3)` (label F1), both of which draw
 * resample indices with legacy `RandomState.randint(0, n)`: 32-bit MT19937 outputs, masked to the smallest
 * all-ones bit mask >= n - 1, rejecting values above n - 1. Reproducing that stream lets cxr report the same
 * intervals as the published evaluation, bit for bit, instead of merely similar ones.
 */
const STATE_WORDS = 624;
const SHIFT_WORDS = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
/** Knuth's multiplier used by init_genrand (and numpy's mt19937_seed). */
const SEED_MULTIPLIER = 1812433253;

export class Mt19937 {
  private readonly mt = new Uint32Array(STATE_WORDS);
  private pos = STATE_WORDS;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`seed must be an integer in [0, 2^32 - 1], got ${seed}`);
    }
    let s = seed >>> 0;
    for (let i = 0; i < STATE_WORDS; i++) {
      this.mt[i] = s;
      s = (Math.imul(SEED_MULTIPLIER, (s ^ (s >>> 30)) >>> 0) + i + 1) >>> 0;
    }
  }

  /** Next raw 32-bit output (genrand_int32). */
  nextUint32(): number {
    if (this.pos >= STATE_WORDS) this.twist();
    let y = this.mt[this.pos++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Uniform integer in [0, n), exactly as legacy `RandomState.randint(0, n)` for n <= 2^32. */
  integer(n: number): number {
    const max = n - 1;
    if (max <= 0) return 0;
    const mask = maskFor(max);
    let v: number;
    do {
      v = (this.nextUint32() & mask) >>> 0;
    } while (v > max);
    return v;
  }

  private twist(): void {
    const mt = this.mt;
    const mix = (i: number, next: number, far: number): void => {
      const y = (mt[i]! & UPPER_MASK) | (mt[next]! & LOWER_MASK);
      mt[i] = mt[far]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    };
    // three loops instead of modular indexing: the wrap-around points are fixed
    let i = 0;
    for (; i < STATE_WORDS - SHIFT_WORDS; i++) mix(i, i + 1, i + SHIFT_WORDS);
    for (; i < STATE_WORDS - 1; i++) mix(i, i + 1, i + SHIFT_WORDS - STATE_WORDS);
    mix(STATE_WORDS - 1, 0, SHIFT_WORDS - 1);
    this.pos = 0;
  }
}

/** Smallest 2^k - 1 that is >= max (numpy's gen_mask). */
function maskFor(max: number): number {
  let mask = max >>> 0;
  mask |= mask >>> 1;
  mask |= mask >>> 2;
  mask |= mask >>> 4;
  mask |= mask >>> 8;
  mask |= mask >>> 16;
  return mask >>> 0;
}
