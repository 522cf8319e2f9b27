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
const [M0, M1, M2, M3, M4, M5, M6, M7] = [0xf645, 0x9fcc, 0xdf64, 0x4385, 0x5da4, 0x1fc6, 0xed05, 0x2360];
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
  private hasSpare = false;

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

  /** state = state * MULTIPLIER + inc (mod 2^128), unrolled: each column sum stays below 2^36, exact in float64. */
  private step(): void {
    const st = this.state;
    const inc = this.inc;
    const [s0, s1, s2, s3, s4, s5, s6, s7] = st as unknown as number[];
    const p0 = s0! * M0 + inc[0]!;
    const p1 = s0! * M1 + s1 * M0 + inc[1]!;
    const p2 = s0! * M2 + s1 * M1 + s2 * M0 + inc[2]!;
    const p3 = s0! * M3 + s1 * M2 + s2 * M1 + s3 * M0 + inc[3]!;
    const p4 = s0! * M4 + s1 * M3 + s2 * M2 + s3 * M1 + s4 * M0 + inc[4]!;
    const p5 = s0! * M5 + s1 * M4 + s2 * M3 + s3 * M2 + s4 * M1 + s5 * M0 + inc[5]!;
    const p6 = s0! * M6 + s1 * M5 + s2 * M4 + s3 * M3 + s4 * M2 + s5 * M1 + s6 * M0 + inc[6]!;
    const p7 = s0! * M7 + s1 * M6 + s2 * M5 + s3 * M4 + s4 * M3 + s5 * M2 + s6 * M1 + s7 * M0 + inc[7]!;
    let carry = 0;
    const cols = [p0, p1, p2, p3, p4, p5, p6, p7];
    for (let i = 0; i < LIMBS; i++) {
      const v = cols[i]! + carry;
      carry = Math.floor(v / LIMB);
      st[i] = v - carry * LIMB;
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

  /** Advance and put the 64-bit XSL-RR output into outHi / outLo. */
  private outHi = 0;
  private outLo = 0;
  private next64(): void {
    this.step();
    const s = this.state;
    // xor of the high and low 64-bit halves, as two 32-bit words
    const lo = ((s[0]! | (s[1]! << 16)) ^ (s[4]! | (s[5]! << 16))) >>> 0;
    const hi = ((s[2]! | (s[3]! << 16)) ^ (s[6]! | (s[7]! << 16))) >>> 0;
    const rot = s[7]! >>> 10; // state >> 122: the top 6 bits
    // rotate the 64-bit value (hi:lo) right by rot
    const [a, b] = rot < 32 ? [hi, lo] : [lo, hi];
    const r = rot % 32;
    this.outHi = r === 0 ? a : ((a >>> r) | (b << (32 - r))) >>> 0;
    this.outLo = r === 0 ? b : ((b >>> r) | (a << (32 - r))) >>> 0;
  }

  /** numpy's pcg64_next32: low half of a fresh 64-bit output, then its high half. */
  nextUint32(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.outHi;
    }
    this.next64();
    this.hasSpare = true;
    return this.outLo;
  }

  /** Uniform integer in [0, n) by Lemire's method, as `Generator.integers(0, n)` for n <= 2^32 - 1. */
  integer(n: number): number {
    const max = n - 1;
    if (max <= 0) return 0;
    const excl = n >>> 0;
    // m = x * excl as a 64-bit product: high word is the result, low word the rejection test
    let x = this.nextUint32();
    let leftover = lowWord(x, excl);
    if (leftover < excl) {
      const threshold = (0xffffffff - max) % excl;
      while (leftover < threshold) {
        x = this.nextUint32();
        leftover = lowWord(x, excl);
      }
    }
    return highWord(x, excl);
  }
}

const TWO32 = 2 ** 32;

/** Low 32 bits of a 32 x 32-bit product (Math.imul gives them exactly). */
function lowWord(a: number, b: number): number {
  return Math.imul(a, b) >>> 0;
}

/** High 32 bits of a 32 x 32-bit product: the float product is off by < 2^12, the low word fixes it exactly. */
function highWord(a: number, b: number): number {
  const low = Math.imul(a, b) >>> 0;
  const approx = a * b; // rounded to 53 bits
  return Math.round((approx - low) / TWO32) >>> 0;
}
