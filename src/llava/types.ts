/**
 * The contract between the graphs (`models/` + ONNX sessions) and generation (`llava/generate.ts`).
 * Sessions implement these; generation, beam search and the pipeline only see these interfaces.
 */

/** The image sentinel in prompt ids: one `<image>` placeholder, replaced by the projected image rows. */
export const IMAGE_TOKEN_ID = -200;

/** Vision tower + projector: pixels [1, 3, S, S] -> projected rows [tokens, hidden] (row-major). */
export interface VisionEncoder {
  /** Number of image rows produced (1369 at 518 px with patch 14). */
  readonly tokens: number;
  /** Width of each row (the language model's hidden size). */
  readonly hidden: number;
  readonly imageSize: number;
  encode(pixels: Float32Array): Promise<Float32Array>;
  dispose(): Promise<void>;
}

/** Opaque per-sequence decoder state (the KV cache and the position). */
export interface DecoderState {
  /** Tokens in the cache so far (prompt including image rows, plus generated tokens). */
  readonly length: number;
}

/** A causal language model with a KV cache. Logits are float32 [vocab] for the last position. */
export interface CausalLM {
  readonly vocabSize: number;
  readonly maxContext: number;
  /**
   * Run the prompt. `inputIds` may contain IMAGE_TOKEN_ID once; its place is taken by `imageRows`
   * ([tokens, hidden]), positions running on contiguously.
   */
  prefill(
    inputIds: number[],
    imageRows: Float32Array | null,
  ): Promise<{ logits: Float32Array; state: DecoderState }>;
  /** Append one token to `state` (mutating it) and return the next logits. */
  step(state: DecoderState, tokenId: number): Promise<Float32Array>;
  /** An independent copy of the state (beam search). */
  fork(state: DecoderState): Promise<DecoderState>;
  release(state: DecoderState): void;
  dispose(): Promise<void>;
}
