/**
 * Text generation against the CausalLM contract (SPEC.md §3): greedy by default with at most 256 new tokens
 * and a stop at EOS, as LLaVA-Rad is evaluated; temperature / top-k / top-p sampling with a seeded PRNG; beam
 * search; stop strings; a per-token streaming callback; the reference's answer post-processing.
 */
import { inputError } from '../errors.js';
import { beamSearch } from './beam.js';
import { postprocessFindings } from './prompt.js';
import { argmax, sampleToken, seededRandom } from './sampling.js';
import { type Detokenizer, StreamDecoder } from './stream.js';
import { type CausalLM, type DecoderState, IMAGE_TOKEN_ID } from './types.js';

/** The paper's decoding settings (SPEC.md §3). */
export const GENERATION_DEFAULTS = {
  maxNewTokens: 256,
  temperature: 0,
  topP: 1,
  topK: 0,
  seed: 0,
  numBeams: 1,
  lengthPenalty: 1,
} as const;

export interface TokenEvent {
  /** 0-based position among the generated tokens. */
  index: number;
  tokenId: number;
  /** Text that became final with this token; '' while a character or a possible stop string is incomplete. */
  text: string;
}

export interface GenerationOptions {
  maxNewTokens?: number;
  /** Defaults to the tokenizer's EOS (2 for LLaMA). */
  eosTokenId?: number;
  /** 0 (default) decodes greedily; > 0 samples. */
  temperature?: number;
  topP?: number;
  topK?: number;
  /** Seed of the sampling PRNG: the same seed gives the same tokens. */
  seed?: number;
  /** > 1 runs beam search (greedy scoring; sampling options are then ignored). */
  numBeams?: number;
  /** Beam search: hypotheses are scored by sum log p / length ** lengthPenalty. */
  lengthPenalty?: number;
  /**
   * Generation ends once the decoded text contains one of these; the text is cut before it (the tokens stay
   * in `tokenIds`). With beam search the cut is applied to the chosen hypothesis.
   */
  stopStrings?: string[];
  /** Called for every generated token (with beam search: for the chosen hypothesis, at the end). */
  onToken?: (event: TokenEvent) => void;
}

export type StopReason = 'eos' | 'max_new_tokens' | 'stop_string' | 'context_full';

export interface GenerationTimings {
  prefillMs: number;
  /** Time after the prefill: every `step` (and fork) call plus token selection. */
  decodeMs: number;
  /** Number of `step` calls (tokens fed back to the model). */
  decodeSteps: number;
  decodeTokensPerS: number;
}

export interface GenerationResult {
  /** Generated ids, EOS included when generation stopped on it (as transformers returns them). */
  tokenIds: number[];
  /** Decoded skipping special tokens, cut at a stop string, before post-processing. */
  rawText: string;
  /** `rawText` after the reference's post-processing (strip, drop a trailing `</s>`, strip). */
  text: string;
  stopReason: StopReason;
  timings: GenerationTimings;
}

export interface ResolvedOptions {
  maxNewTokens: number;
  eosTokenId: number;
  temperature: number;
  topP: number;
  topK: number;
  seed: number;
  numBeams: number;
  lengthPenalty: number;
  stopStrings: string[];
  onToken?: (event: TokenEvent) => void;
}

function resolveOptions(options: GenerationOptions, tokenizer: Detokenizer): ResolvedOptions {
  // Options left undefined take their defaults (a plain spread would let `undefined` through).
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const o: ResolvedOptions = {
    ...GENERATION_DEFAULTS,
    eosTokenId: tokenizer.eosTokenId,
    stopStrings: [],
    ...given,
  };
  checkGenerationOptions(o);
  return o;
}

type CheckedOption = 'maxNewTokens' | 'temperature' | 'topP' | 'topK' | 'numBeams' | 'seed';

/**
 * Throws an input error for an option out of range. Callers that load a model first check here before loading
 * it, naming the fields as their user knows them (`fieldName`: e.g. maxNewTokens -> --max-new-tokens).
 */
export function checkGenerationOptions(
  options: GenerationOptions,
  fieldName: (option: CheckedOption) => string = (option) => option,
): void {
  const o = {
    ...GENERATION_DEFAULTS,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  };
  const bad = (field: CheckedOption, expected: string, found: unknown) =>
    inputError('generate.bad_option', 'invalid generation option', {
      field: fieldName(field),
      expected,
      found: String(found),
    });
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 1)
    throw bad('maxNewTokens', 'an integer >= 1', o.maxNewTokens);
  if (!(o.temperature >= 0)) throw bad('temperature', 'a number >= 0', o.temperature);
  if (!(o.topP > 0 && o.topP <= 1)) throw bad('topP', 'a number in (0, 1]', o.topP);
  if (!Number.isInteger(o.topK) || o.topK < 0) throw bad('topK', 'an integer >= 0', o.topK);
  if (!Number.isInteger(o.numBeams) || o.numBeams < 1) throw bad('numBeams', 'an integer >= 1', o.numBeams);
  if (!Number.isInteger(o.seed)) throw bad('seed', 'an integer', o.seed);
}

/** Positions the prompt occupies in the cache: the sentinel stands for `imageTokens` rows. */
export function promptLength(promptIds: readonly number[], imageTokens: number): number {
  const images = promptIds.filter((t) => t === IMAGE_TOKEN_ID).length;
  return promptIds.length + images * (imageTokens - 1);
}

/**
 * Generate a continuation of `promptIds` (with IMAGE_TOKEN_ID standing for `imageRows`, `imageTokens` rows).
 * The caller owns `lm`; every decoder state made here is released before returning.
 */
export async function generate(
  lm: CausalLM,
  tokenizer: Detokenizer,
  promptIds: number[],
  image: { rows: Float32Array; tokens: number } | null,
  options: GenerationOptions = {},
): Promise<GenerationResult> {
  const o = resolveOptions(options, tokenizer);
  const length = promptLength(promptIds, image?.tokens ?? 1);
  if (length >= lm.maxContext)
    throw inputError('generate.prompt_too_long', 'the prompt does not fit the model context', {
      expected: `fewer than ${lm.maxContext} positions`,
      found: String(length),
    });
  const t0 = performance.now();
  const { logits, state } = await lm.prefill(promptIds, image?.rows ?? null);
  const prefillMs = performance.now() - t0;
  const run =
    o.numBeams > 1
      ? await beamSearch(lm, state, logits, o, promptIds.length)
      : await sampleLoop(lm, state, logits, o, tokenizer);
  const decodeMs = performance.now() - t0 - prefillMs;
  const stream = run.stream ?? replay(tokenizer, run.tokenIds, o);
  const rawText = stream.text;
  return {
    tokenIds: run.tokenIds,
    rawText,
    text: postprocessFindings(rawText),
    stopReason: stream.stopped ? 'stop_string' : run.stopReason,
    timings: {
      prefillMs,
      decodeMs,
      decodeSteps: run.decodeSteps,
      decodeTokensPerS: decodeMs > 0 ? (run.decodeSteps * 1000) / decodeMs : 0,
    },
  };
}

export interface LoopResult {
  tokenIds: number[];
  stopReason: StopReason;
  decodeSteps: number;
  /** The stream the tokens went through, when they were streamed as generated. */
  stream?: StreamDecoder;
}

/** Greedy or sampled decoding, one token at a time, streaming as it goes. */
async function sampleLoop(
  lm: CausalLM,
  state: DecoderState,
  firstLogits: Float32Array,
  o: ResolvedOptions,
  tokenizer: Detokenizer,
): Promise<LoopResult> {
  const random = seededRandom(o.seed);
  const pick = (logits: Float32Array) =>
    o.temperature > 0 ? sampleToken(logits, o, random) : argmax(logits);
  const stream = new StreamDecoder(tokenizer, o.stopStrings);
  const tokenIds: number[] = [];
  let logits = firstLogits;
  let stopReason: StopReason = 'max_new_tokens';
  let decodeSteps = 0;
  try {
    for (;;) {
      const tokenId = pick(logits);
      tokenIds.push(tokenId);
      const text = stream.push(tokenId);
      const last = tokenId === o.eosTokenId || stream.stopped || tokenIds.length >= o.maxNewTokens;
      o.onToken?.({ index: tokenIds.length - 1, tokenId, text: last ? text + stream.finish() : text });
      if (tokenId === o.eosTokenId) stopReason = 'eos';
      if (last) break;
      if (state.length >= lm.maxContext) {
        stopReason = 'context_full';
        break;
      }
      logits = await lm.step(state, tokenId);
      decodeSteps++;
    }
  } finally {
    lm.release(state);
  }
  return { tokenIds, stopReason, decodeSteps, stream };
}

/** Run finished tokens through a stream (beam search streams its winner at the end). */
function replay(tokenizer: Detokenizer, tokenIds: number[], o: ResolvedOptions): StreamDecoder {
  const stream = new StreamDecoder(tokenizer, o.stopStrings);
  tokenIds.forEach((tokenId, index) => {
    if (stream.stopped) return;
    const text = stream.push(tokenId);
    const last = index === tokenIds.length - 1 || stream.stopped;
    o.onToken?.({ index, tokenId, text: last ? text + stream.finish() : text });
  });
  return stream;
}
