/**
 * The contract between `weights/` (knows files) and `models/` + `llava/` (know graphs).
 * Tensor names are the checkpoint's own, with the file-level prefixes stripped (see LlavaRadWeights).
 */

export type TensorDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export interface TensorInfo {
  name: string;
  dtype: TensorDtype;
  shape: number[];
}

/** A lazily read set of named tensors (one file, a shard set, or a view with renamed/merged tensors). */
export interface TensorSource {
  /** Where the tensors come from, for error messages. */
  readonly origin: string;
  list(): TensorInfo[];
  has(name: string): boolean;
  /** Throws a CxrError naming the origin and the tensor when absent. */
  info(name: string): TensorInfo;
  /** The tensor converted exactly to float32 (fp16 and bf16 upcast without rounding), C order. */
  readFloat32(name: string): Promise<Float32Array>;
  /** The tensor's bytes in its stored dtype, little-endian, C order (views and strides resolved). */
  readBytes(name: string): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** The typed configs of the released files (SPEC.md §4). */
export interface LlamaConfig {
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  vocabSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  maxPositionEmbeddings: number;
  bosTokenId: number;
  eosTokenId: number;
  padTokenId: number;
}

export interface VisionConfig {
  imageSize: number;
  patchSize: number;
  width: number;
  layers: number;
  heads: number;
  mlpDim: number;
  layerNormEps: number;
  /** Index into hidden states (0 = embeddings) after resolving `mm_vision_select_layer` (-2 => layers - 1). */
  selectLayer: number;
  /** 'patch' drops the class token. */
  selectFeature: 'patch' | 'cls_patch';
}

export interface ProjectorConfig {
  type: 'mlp2x_gelu';
  inputSize: number;
  hiddenSize: number;
}

export interface LoraConfig {
  r: number;
  alpha: number;
  targetModules: string[];
}

export interface GenerationDefaults {
  bosTokenId: number;
  eosTokenId: number;
  padTokenId: number;
  maxNewTokens: number;
}

export interface LlavaRadConfig {
  llama: LlamaConfig;
  vision: VisionConfig;
  projector: ProjectorConfig;
  lora: LoraConfig;
  generation: GenerationDefaults;
}

/**
 * The three parts of a LLaVA-Rad model resolved from the released layout.
 * - vision: timm names without `module.visual.trunk.` (e.g. `patch_embed.proj.weight`, `blocks.0.attn.qkv.weight`)
 * - projector: `0.weight`, `0.bias`, `2.weight`, `2.bias` (from `base_model.model.model.mm_projector.*`)
 * - language: Hugging Face LLaMA names (`model.embed_tokens.weight`, `model.layers.0.self_attn.q_proj.weight`,
 *   `model.norm.weight`, `lm_head.weight`) with the LoRA merged as W + (alpha / r) * B @ A.
 */
export interface LlavaRadWeights {
  config: LlavaRadConfig;
  vision: TensorSource;
  projector: TensorSource;
  language: TensorSource;
  /** Path of the SentencePiece tokenizer.model of the base. */
  tokenizerModelPath: string;
  close(): Promise<void>;
}

export interface OpenLlavaRadOptions {
  llavaDir: string;
  baseDir: string;
  /**
   * How merged LoRA weights are rounded. 'fp16' reproduces the official builder (merge in fp16 storage:
   * fp16(W + fp32(B@A) * scaling)); 'fp32' keeps the exact float32 sum.
   */
  mergePrecision?: 'fp16' | 'fp32';
}
