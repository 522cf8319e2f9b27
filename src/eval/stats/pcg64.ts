/**
 * NumPy's default generator, `np.random.default_rng(seed)`: SeedSequence seeding, PCG64 (XSL-RR output), 32-bit
 * draws taken as the low then high half of a 64-bit output, and Lemire's bounded integers as used by
 * `Generator.integers` / `Generator.choice`. sacrebleu draws its bootstrap resamples this way
 * (`default_rng(12345).choice(N, size=(B, N))`), so reproducing it gives sacrebleu's BLEU intervals exactly.
 *
 * The 128-bit state lives in eight 16-bit limbs so that every partial product is exact in float64.
 */

// SeedSequence constants (numpy/random/bit_generator.pyx)
const POOL_SIZE = 4;
const INIT_A = 0x43b0d7e5;
const MULT_A = 0x931e8875;
const INIT_B = 0x8b51f9dd;
const MULT_B = 0x58f38ded;
const MIX_MULT_L = 0xca01f9dd;
const MIX_MULT_R = 0x4973f715;
const XSHIFT = 16;

/** PCG_DEFAULT_MULTIPLIER_128 = 0x2360ED051FC65DA4_4385DF649FCCF645, as 16-bit limbs, least significant first. */
const MULTIPLIER = [0xf645, 0x9fcc, 0xdf64, 0x4385, 0x5da4, 0x1fc6, 0xed05, 0x2360];
const LIMBS = 8;
const LIMB = 0x10000;

/** `SeedSequence(seed).generate_state(4, uint32)` words: the 128-bit PCG64 seed and increment. */
export function seedSequenceWords(seed: number, words: number): Uint32Array {
  const entropy = seed === 0 ? [0] : [];
  for (let s = seed; s > 0; s = Math.floor(s / 2 ** 32)) entropy.push(s % 2 ** 32);
  const pool = new Uint32Array(POOL_SIZE);
  let hashConst = INIT_A;
  const hashmix = (value: number): number => {
    let v = (value ^ hashConst) >>> 0;
    hashConst = Math.imul(hashConst, MULT_A) >>> 0;
    v = Math.imul(v, hashConst) >>> 0;
    return (v ^ (v >>> XSHIFT)) >>> 0;
  };
  const mix = (x: number, y: number): number => {
    const r = (Math.imul(MIX_MULT_L, x) - Math.imul(MIX_MULT_R, y)) >>> 0;
    return (r ^ (r >>> XSHIFT)) >>> 0;
  };
  for (let i = 0; i < POOL_SIZE; i++) pool[i] = hashmix(i < entropy.length ? entropy[i]! : 0);
  for (let src = 0; src < POOL_SIZE; src++) {
    for (let dst = 0; dst < POOL_SIZE; dst++)
      if (src !== dst) pool[dst] = mix(pool[dst]!, hashmix(pool[src]!));
  }
  for (let src = POOL_SIZE; src < entropy.length; src++) {
    for (let dst = 0; dst < POOL_SIZE; dst++) pool[dst] = mix(pool[dst]!, hashmix(entropy[src]!));
  }
  const out = new Uint32Array(words);
  let hashB = INIT_B;
  for (let i = 0; i < words; i++) {
    let v = (pool[i % POOL_SIZE]! ^ hashB) >>> 0;
    hashB = Math.imul(hashB, MULT_B) >>> 0;
    v = Math.imul(v, hashB) >>> 0;
    out[i] = (v ^ (v >>> XSHIFT)) >>> 0;
  }
  return out;
}

/** 16-bit limbs of a 128-bit value from its four 32-bit words, most significant word first. */
function limbsOf(hi64hi: number, hi64lo: number, lo64hi: number, lo64lo: number): Float64Array {
  const l = new Float64Array(LIMBS);
  [lo64lo, lo64hi, hi64lo, hi64hi].forEach((w, k) => {
    l[2 * k] = w & 0xffff;
    l[2 * k + 1] = w >>> 16;
  });
  return l;
}

export class Pcg64 {
  private state: Float64Array;
  private readonly inc: Float64Array;
  private readonly product = new Float64Array(LIMBS);
  private spare: number | null = null;

  constructor(seed: number) {
    // generate_state(4, uint64): uint64 k = word[2k] | word[2k+1] << 32; seed = (s0 << 64) | s1, inc = (s2 << 64) | s3
    const w = seedSequenceWords(seed, 2 * POOL_SIZE);
    const initState = limbsOf(w[1]!, w[0]!, w[3]!, w[2]!);
    const initSeq = limbsOf(w[5]!, w[4]!, w[7]!, w[6]!);
    // inc = (initseq << 1) | 1
    this.inc = new Float64Array(LIMBS);
    let carry = 1;
    for (let i = 0; i < LIMBS; i++) {
      const v = initSeq[i]! * 2 + carry;
      this.inc[i] = v % LIMB;
      carry = Math.floor(v / LIMB);
    }
    this.state = new Float64Array(LIMBS);
    this.step();
    this.addInto(this.state, initState);
    this.step();
  }

  /** state = state * MULTIPLIER + inc (mod 2^128) */
  private step(): void {
    const s = this.state;
    const p = this.product;
    p.fill(0);
    for (let i = 0; i < LIMBS; i++) {
      const si = s[i]!;
      if (si === 0) continue;
      for (let j = 0; i + j < LIMBS; j++) p[i + j]! += si * MULTIPLIER[j]!;
    }
    let carry = 0;
    for (let i = 0; i < LIMBS; i++) {
      const v = p[i]! + this.inc[i]! + carry;
      const low = v % LIMB;
      s[i] = low;
      carry = (v - low) / LIMB;
    }
  }

  private addInto(target: Float64Array, x: Float64Array): void {
    let carry = 0;
    for (let i = 0; i < LIMBS; i++) {
      const v = target[i]! + x[i]! + carry;
      target[i] = v % LIMB;
      carry = Math.floor(v / LIMB);
    }
  }

  /** Next 64-bit output as [high 32 bits, low 32 bits]: XSL-RR of the advanced state. */
  private next64(): [number, number] {
    this.step();
    const s = this.state;
    // xor of the high and low 64-bit halves, as two 32-bit words
    const lo = ((s[0]! | (s[1]! << 16)) ^ (s[4]! | (s[5]! << 16))) >>> 0;
    const hi = ((s[2]! | (s[3]! << 16)) ^ (s[6]! | (s[7]! << 16))) >>> 0;
    const rot = s[7]! >>> 10; // state >> 122: the top 6 bits
    if (rot === 0) return [hi, lo];
    if (rot === 32) return [lo, hi];
    const [a, b] = rot < 32 ? [hi, lo] : [lo, hi];
    const r = rot % 32;
    // rotate right the 64-bit value (a:b) by r
    return [((a >>> r) | (b << (32 - r))) >>> 0, ((b >>> r) | (a << (32 - r))) >>> 0];
  }

  /** numpy's pcg64_next32: low half of a fresh 64-bit output, then its high half. */
  nextUint32(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    const [hi, lo] = this.next64();
    this.spare = hi;
    return lo;
  }

  /** Uniform integer in [0, n) by Lemire's method, as `Generator.integers(0, n)` for n <= 2^32 - 1. */
  integer(n: number): number {
    const max = n - 1;
    if (max <= 0) return 0;
    const excl = n >>> 0;
    let [high, leftover] = mulHighLow(this.nextUint32(), excl);
    if (leftover < excl) {
      const threshold = (0xffffffff - max) % excl;
      while (leftover < threshold) [high, leftover] = mulHighLow(this.nextUint32(), excl);
    }
    return high;
  }
}

/** 32 x 32 -> 64-bit product as [high word, low word]. */
function mulHighLow(a: number, b: number): [number, number] {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const lo = aLo * bLo;
  const mid = aHi * bLo + aLo * bHi; // < 2^33, exact
  const low = (lo + (mid % LIMB) * LIMB) % 2 ** 32;
  const high = aHi * bHi + Math.floor(mid / LIMB) + Math.floor((lo + (mid % LIMB) * LIMB) / 2 ** 32);
  return [high >>> 0, low >>> 0];
}
