/**
 * Picking the next token from a logits row: argmax, and temperature / top-k / top-p sampling applied in the
 * order of transformers' logits warpers, driven by a seeded PRNG so a run can be repeated exactly.
 */

/** Index of the largest logit; the first one on ties (torch.argmax on CPU). */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  let bestValue = logits[0]!;
  for (let i = 1; i < logits.length; i++) {
    if (logits[i]! > bestValue) {
      bestValue = logits[i]!;
      best = i;
    }
  }
  return best;
}

/** log-softmax in float64. */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  const logZ = max + Math.log(sum);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i]! - logZ;
  return out;
}

/** mulberry32's constants: a 32-bit state advanced by a Weyl increment, then mixed. */
const MULBERRY_INCREMENT = 0x6d2b79f5;
const TWO_POW_32 = 4294967296;

/** A small, fast, seedable PRNG (mulberry32) returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + MULBERRY_INCREMENT) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / TWO_POW_32;
  };
}

export interface SamplingOptions {
  /** > 0; logits are divided by it. */
  temperature: number;
  /** Nucleus mass in (0, 1]; 1 keeps everything. */
  topP: number;
  /** Keep the k largest logits; 0 keeps everything. */
  topK: number;
}

/**
 * Sample one token: logits / temperature, keep the top k, keep the smallest set of most likely tokens whose
 * probability reaches top_p (transformers' TopPLogitsWarper: drop tokens while the ascending cumulative
 * probability is <= 1 - top_p, always keeping the most likely), then draw from the renormalised softmax.
 */
export function sampleToken(
  logits: ArrayLike<number>,
  options: SamplingOptions,
  random: () => number,
): number {
  const probs = softmax(logits, options.temperature);
  const candidates = keptTokens(probs, options);
  if (candidates === null) return drawFrom(probs, null, random);
  return drawFrom(probs, candidates, random);
}

/** Draw an index with probability proportional to `probs` over `candidates` (all indices when null). */
function drawFrom(probs: Float64Array, candidates: number[] | null, random: () => number): number {
  const n = candidates ? candidates.length : probs.length;
  const at = (j: number) => (candidates ? candidates[j]! : j);
  let total = 0;
  for (let j = 0; j < n; j++) total += probs[at(j)]!;
  let u = random() * total;
  for (let j = 0; j < n; j++) {
    u -= probs[at(j)]!;
    if (u < 0) return at(j);
  }
  return at(n - 1);
}

/**
 * The tokens top-k and top-p keep, most likely first (ties by index), with `probs` renormalised over the top k
 * as transformers does (top-k masks to -inf before top-p's softmax); null when neither filter is on.
 */
function keptTokens(probs: Float64Array, options: SamplingOptions): number[] | null {
  if (options.topK === 0 && options.topP >= 1) return null;
  // Without top-k, tokens below `floor` together weigh less than 1 - top_p, so top-p drops them all unsorted.
  const floor = options.topK === 0 ? (1 - options.topP) / probs.length : 0;
  const order: number[] = [];
  let dropped = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i]! >= floor) order.push(i);
    else dropped += probs[i]!;
  }
  order.sort((a, b) => probs[b]! - probs[a]! || a - b);
  let kept = order.length;
  if (options.topK > 0 && options.topK < kept) {
    kept = options.topK;
    let mass = 0;
    for (let j = 0; j < kept; j++) mass += probs[order[j]!]!;
    for (let j = 0; j < kept; j++) probs[order[j]!]! /= mass;
    dropped = 0;
  }
  // Walk up from the least likely kept token while the dropped mass stays <= 1 - top_p.
  while (options.topP < 1 && kept > 1 && dropped + probs[order[kept - 1]!]! <= 1 - options.topP) {
    dropped += probs[order[kept - 1]!]!;
    kept--;
  }
  return order.slice(0, kept);
}

function softmax(logits: ArrayLike<number>, temperature: number): Float64Array {
  const out = new Float64Array(logits.length);
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]! / temperature);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp(logits[i]! / temperature - max);
    sum += out[i]!;
  }
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}
