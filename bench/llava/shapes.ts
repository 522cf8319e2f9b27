/**
 * The shapes the llava bench builds (LLaVA-Rad: ViT-B/14 at 518 px, mlp2x_gelu projector, Vicuna-7B decoder) and
 * random weights for them. Every tensor gets its own pseudo-random values (seeded by its name): identical or
 * constant initialisers let kernels and caches run 2-3x faster than real weights and falsify the timings.
 */
import type {
  LlamaConfig,
  LlavaRadConfig,
  LlavaRadWeights,
  TensorInfo,
  TensorSource,
} from '../../src/weights/index.js';

export interface BenchShape {
  config: LlavaRadConfig;
  /** Text tokens after the image rows in the prompt (1,430 - 1,369 at the real shape). */
  textTokens: number;
}

/** Vicuna-7B v1.5 (LLaMA-2 7B) decoder shapes, shared by every bench that builds one. */
export const LLAMA_7B: LlamaConfig = {
  hiddenSize: 4096,
  intermediateSize: 11008,
  numHiddenLayers: 32,
  numAttentionHeads: 32,
  numKeyValueHeads: 32,
  vocabSize: 32000,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  maxPositionEmbeddings: 4096,
  bosTokenId: 1,
  eosTokenId: 2,
  padTokenId: 0,
};

const COMMON = {
  lora: { r: 128, alpha: 256, targetModules: [] },
  generation: { bosTokenId: 1, eosTokenId: 2, padTokenId: 0, maxNewTokens: 64 },
};

/** The real LLaVA-Rad shapes (SPEC.md §1): 1,369 image rows + 61 text tokens = a 1,430-token prompt. */
export const REAL_SHAPE: BenchShape = {
  config: {
    llama: LLAMA_7B,
    vision: {
      imageSize: 518,
      patchSize: 14,
      width: 768,
      layers: 12,
      heads: 12,
      mlpDim: 3072,
      layerNormEps: 1e-6,
      selectLayer: 11,
      selectFeature: 'patch',
    },
    projector: { type: 'mlp2x_gelu', inputSize: 768, hiddenSize: 4096 },
    ...COMMON,
  },
  textTokens: 61,
};

/** A few-kilobyte model of the same structure, for testing the bench code itself. */
export const TINY_SHAPE: BenchShape = {
  config: {
    llama: {
      ...LLAMA_7B,
      hiddenSize: 64,
      intermediateSize: 128,
      numHiddenLayers: 2,
      numAttentionHeads: 4,
      numKeyValueHeads: 4,
      vocabSize: 512,
      maxPositionEmbeddings: 256,
    },
    vision: {
      imageSize: 56,
      patchSize: 14,
      width: 32,
      layers: 2,
      heads: 2,
      mlpDim: 64,
      layerNormEps: 1e-6,
      selectLayer: 1,
      selectFeature: 'patch',
    },
    projector: { type: 'mlp2x_gelu', inputSize: 32, hiddenSize: 64 },
    ...COMMON,
  },
  textTokens: 6,
};

/** `shape` with `layers` decoder layers. */
export function withLayers(shape: BenchShape, layers: number): BenchShape {
  return { ...shape, config: { ...shape.config, llama: { ...shape.config.llama, numHiddenLayers: layers } } };
}

/** Uniform weights in [-WEIGHT_RANGE, WEIGHT_RANGE] (the magnitude of trained LLaMA / ViT weights). */
const WEIGHT_RANGE = 0.02;

/** A 32-bit seed from a tensor name (FNV-1a), so every tensor draws a different stream. */
function seedOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0 || 1;
}

/** xorshift32 values in [-range, range); 1-D tensors (norm scales, biases, LayerScale) are 1 +/- range. */
export function randomTensor(name: string, shape: readonly number[], range = WEIGHT_RANGE): Float32Array {
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const scale = (2 * range) / 2 ** 32;
  const offset = shape.length === 1 ? 1 - range : -range;
  let s = seedOf(name);
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 0) * scale + offset;
  }
  return out;
}

function source(origin: string, shapes: Map<string, number[]>): TensorSource {
  const info = (name: string): TensorInfo => {
    const shape = shapes.get(name);
    if (!shape) throw new Error(`${origin}: no tensor ${name}`);
    return { name, dtype: 'F32', shape };
  };
  return {
    origin,
    list: () => [...shapes.keys()].map(info),
    has: (name) => shapes.has(name),
    info,
    readFloat32: async (name) => randomTensor(`${origin}/${name}`, info(name).shape),
    readBytes: () => Promise.reject(new Error('random weights are float32 only')),
    close: async () => {},
  };
}

/** Hugging Face LLaMA names and shapes (models/llama.ts LLAMA_WEIGHTS). */
export function llamaShapes(c: LlamaConfig): Map<string, number[]> {
  const H = c.hiddenSize;
  const F = c.intermediateSize;
  const m = new Map<string, number[]>([
    ['model.embed_tokens.weight', [c.vocabSize, H]],
    ['model.norm.weight', [H]],
    ['lm_head.weight', [c.vocabSize, H]],
  ]);
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const p = `model.layers.${i}.`;
    for (const n of ['q', 'k', 'v', 'o']) m.set(`${p}self_attn.${n}_proj.weight`, [H, H]);
    m.set(`${p}mlp.gate_proj.weight`, [F, H]);
    m.set(`${p}mlp.up_proj.weight`, [F, H]);
    m.set(`${p}mlp.down_proj.weight`, [H, F]);
    m.set(`${p}input_layernorm.weight`, [H]);
    m.set(`${p}post_attention_layernorm.weight`, [H]);
  }
  return m;
}

/** timm ViT names and shapes (models/vit.ts VIT_WEIGHTS), only the blocks the graph runs. */
function vitShapes(c: LlavaRadConfig['vision']): Map<string, number[]> {
  const D = c.width;
  const grid = c.imageSize / c.patchSize;
  const m = new Map<string, number[]>([
    ['patch_embed.proj.weight', [D, 3, c.patchSize, c.patchSize]],
    ['patch_embed.proj.bias', [D]],
    ['cls_token', [1, 1, D]],
    ['pos_embed', [1, 1 + grid * grid, D]],
  ]);
  for (let i = 0; i < c.selectLayer; i++) {
    const p = `blocks.${i}.`;
    for (const [n, shape] of [
      ['norm1.weight', [D]],
      ['norm1.bias', [D]],
      ['attn.qkv.weight', [3 * D, D]],
      ['attn.qkv.bias', [3 * D]],
      ['attn.proj.weight', [D, D]],
      ['attn.proj.bias', [D]],
      ['ls1.gamma', [D]],
      ['norm2.weight', [D]],
      ['norm2.bias', [D]],
      ['mlp.fc1.weight', [c.mlpDim, D]],
      ['mlp.fc1.bias', [c.mlpDim]],
      ['mlp.fc2.weight', [D, c.mlpDim]],
      ['mlp.fc2.bias', [D]],
      ['ls2.gamma', [D]],
    ] as const)
      m.set(p + n, [...shape]);
  }
  return m;
}

function projectorShapes(c: LlavaRadConfig['projector']): Map<string, number[]> {
  return new Map([
    ['0.weight', [c.hiddenSize, c.inputSize]],
    ['0.bias', [c.hiddenSize]],
    ['2.weight', [c.hiddenSize, c.hiddenSize]],
    ['2.bias', [c.hiddenSize]],
  ]);
}

/** Random LLaVA-Rad weights at `shape`, in the form the graph builders take (no tokenizer: none is needed). */
export function randomWeights(shape: BenchShape): LlavaRadWeights {
  const c = shape.config;
  return {
    config: c,
    vision: source('vision', vitShapes(c.vision)),
    projector: source('projector', projectorShapes(c.projector)),
    language: source('language', llamaShapes(c.llama)),
    tokenizerModelPath: '',
    close: async () => {},
  };
}
