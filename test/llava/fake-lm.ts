/**
 * A deterministic CausalLM double for generation tests: the next-token logits are a scripted function of the
 * tokens generated so far. It checks the state discipline (no use after release, no double release).
 */
import type { CausalLM, DecoderState } from '../../src/llava/types.js';

export const FAKE_VOCAB = 32000;
/** Logit of every token the script does not mention. */
const FLOOR = -20;

interface FakeState extends DecoderState {
  length: number;
  history: number[];
  released: boolean;
}

export type Script = (history: readonly number[]) => Record<number, number>;

export class ScriptedLM implements CausalLM {
  readonly vocabSize = FAKE_VOCAB;
  live = 0;
  forks = 0;
  steps = 0;
  prefills: { ids: number[]; rows: Float32Array | null }[] = [];

  constructor(
    private readonly script: Script,
    readonly maxContext = 4096,
    private readonly imageTokens = 4,
  ) {}

  private logits(history: readonly number[]): Float32Array {
    const out = new Float32Array(this.vocabSize).fill(FLOOR);
    for (const [token, logit] of Object.entries(this.script(history))) out[Number(token)] = logit;
    return out;
  }

  private check(state: DecoderState): FakeState {
    const s = state as FakeState;
    if (s.released) throw new Error('decoder state used after release');
    return s;
  }

  async prefill(inputIds: number[], imageRows: Float32Array | null) {
    this.prefills.push({ ids: inputIds, rows: imageRows });
    this.live++;
    const images = inputIds.filter((t) => t === -200).length;
    const state: FakeState = {
      length: inputIds.length + images * (this.imageTokens - 1),
      history: [],
      released: false,
    };
    return { logits: this.logits([]), state };
  }

  async step(state: DecoderState, tokenId: number) {
    const s = this.check(state);
    if (s.length >= this.maxContext) throw new Error('step past the context');
    s.history.push(tokenId);
    s.length++;
    this.steps++;
    return this.logits(s.history);
  }

  async fork(state: DecoderState) {
    const s = this.check(state);
    this.live++;
    this.forks++;
    return { length: s.length, history: [...s.history], released: false } as FakeState;
  }

  release(state: DecoderState) {
    this.check(state).released = true;
    this.live--;
  }

  async dispose() {}
}

/** A script that walks `tokens` in order (each strongly preferred), then repeats the last forever. */
export function chain(tokens: number[]): Script {
  return (history) => ({ [tokens[Math.min(history.length, tokens.length - 1)]!]: 10 });
}
