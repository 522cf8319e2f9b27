/**
 * Beam search as transformers 4.31 runs it (`beam_search` + `BeamSearchScorer`, early_stopping false):
 * - every step ranks the 2 * numBeams best (beam, token) continuations by cumulative log-probability;
 * - an EOS among the first numBeams of them closes a hypothesis, scored sum log p / length ** lengthPenalty,
 *   where length counts the prompt ids and the generated tokens before EOS (as `hyp.shape[-1]` does);
 * - the other continuations fill the numBeams beams of the next step;
 * - the search ends when numBeams hypotheses are closed and none of the open beams can beat the worst of
 *   them, or at maxNewTokens, when the open beams are closed as they stand.
 * Each beam owns a decoder state; a beam with several children is forked, one with none released.
 */
import type { LoopResult, ResolvedOptions } from './generate.js';
import { logSoftmax } from './sampling.js';
import type { CausalLM, DecoderState } from './types.js';

interface Beam {
  tokens: number[];
  /** Sum of the log-probabilities of `tokens`. */
  score: number;
  state: DecoderState;
  logits: Float32Array;
}

interface Candidate {
  parent: number;
  token: number;
  score: number;
}

interface Hypothesis {
  tokens: number[];
  score: number;
}

/** The numBeams best closed hypotheses (BeamHypotheses). */
class Hypotheses {
  readonly items: Hypothesis[] = [];
  constructor(
    private readonly numBeams: number,
    private readonly lengthPenalty: number,
  ) {}

  get worst(): number {
    return this.items.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...this.items.map((h) => h.score));
  }

  add(tokens: number[], sumLogProbs: number, length: number): void {
    const score = sumLogProbs / length ** this.lengthPenalty;
    if (this.items.length >= this.numBeams && score <= this.worst) return;
    this.items.push({ tokens, score });
    if (this.items.length > this.numBeams) {
      const worstAt = this.items.reduce((w, h, i, a) => (h.score < a[w]!.score ? i : w), 0);
      this.items.splice(worstAt, 1);
    }
  }

  /** No open beam whose best continuation scores `bestSum` at `length` can enter any more. */
  isDone(bestSum: number, length: number): boolean {
    if (this.items.length < this.numBeams) return false;
    return this.worst >= bestSum / length ** this.lengthPenalty;
  }

  best(): Hypothesis {
    return this.items.reduce((b, h) => (h.score > b.score ? h : b));
  }
}

/** The 2 * numBeams best continuations over all beams, best first (ties: lower beam, then lower token). */
function rankContinuations(beams: Beam[], width: number): Candidate[] {
  const all: Candidate[] = [];
  beams.forEach((beam, parent) => {
    const logp = logSoftmax(beam.logits);
    // Per-beam top `width` is enough: the global top `width` cannot need more from one beam.
    const top = topIndices(logp, width);
    for (const token of top) all.push({ parent, token, score: beam.score + logp[token]! });
  });
  all.sort((a, b) => b.score - a.score || a.parent - b.parent || a.token - b.token);
  return all.slice(0, width);
}

function topIndices(values: Float64Array, k: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (idx.length < k || values[i]! > values[idx[idx.length - 1]!]!) {
      let at = idx.length < k ? idx.length : idx.length - 1;
      idx[at] = i;
      // Insertion keeps `idx` sorted by value, descending.
      while (at > 0 && values[idx[at]!]! > values[idx[at - 1]!]!) {
        [idx[at], idx[at - 1]] = [idx[at - 1]!, idx[at]!];
        at--;
      }
    }
  }
  return idx;
}

export async function beamSearch(
  lm: CausalLM,
  state: DecoderState,
  logits: Float32Array,
  o: ResolvedOptions,
  promptIdsLength: number,
): Promise<LoopResult> {
  const closed = new Hypotheses(o.numBeams, o.lengthPenalty);
  let beams: Beam[] = [{ tokens: [], score: 0, state, logits }];
  let decodeSteps = 0;
  let stopReason: LoopResult['stopReason'] = 'max_new_tokens';
  try {
    for (let step = 0; ; step++) {
      const length = promptIdsLength + step;
      const ranked = rankContinuations(beams, 2 * o.numBeams);
      const next: Candidate[] = [];
      for (const [rank, c] of ranked.entries()) {
        if (c.token === o.eosTokenId) {
          if (rank < o.numBeams) closed.add([...beams[c.parent]!.tokens, c.token], c.score, length);
        } else next.push(c);
        if (next.length === o.numBeams) break;
      }
      if (closed.isDone(ranked[0]!.score, length)) {
        stopReason = 'eos';
        break;
      }
      const last = step + 1 >= o.maxNewTokens || beams[0]!.state.length >= lm.maxContext;
      if (last) {
        // Close the open beams as they stand (BeamSearchScorer.finalize).
        for (const c of next) closed.add([...beams[c.parent]!.tokens, c.token], c.score, length + 1);
        if (step + 1 < o.maxNewTokens) stopReason = 'context_full';
        break;
      }
      beams = await advance(lm, beams, next);
      decodeSteps += beams.length;
    }
  } finally {
    for (const b of beams) lm.release(b.state);
  }
  const best = closed.best();
  if (best.tokens.at(-1) === o.eosTokenId) stopReason = 'eos';
  return { tokenIds: best.tokens, stopReason, decodeSteps };
}

/** Give each chosen continuation a state (the parent's own for its first child, a fork for the others). */
async function advance(lm: CausalLM, beams: Beam[], chosen: Candidate[]): Promise<Beam[]> {
  const taken = new Set<number>();
  const states: DecoderState[] = [];
  for (const c of chosen) {
    const parent = beams[c.parent]!;
    states.push(taken.has(c.parent) ? await lm.fork(parent.state) : parent.state);
    taken.add(c.parent);
  }
  beams.forEach((b, i) => {
    if (!taken.has(i)) lm.release(b.state);
  });
  const next: Beam[] = [];
  for (const [i, c] of chosen.entries()) {
    const parent = beams[c.parent]!;
    const logits = await lm.step(states[i]!, c.token);
    next.push({ tokens: [...parent.tokens, c.token], score: c.score, state: states[i]!, logits });
  }
  return next;
}
