/**
 * The JSON configs of the released files, read into the typed configs of types.ts. Every field is
 * checked for presence and type, and a missing or odd one is reported with its file and key.
 */
import { readFile } from 'node:fs/promises';
import { inputError } from '../errors.js';
import type { GenerationDefaults, LlamaConfig, LoraConfig, ProjectorConfig, VisionConfig } from './types.js';

/** LLaMA-2 / Vicuna v1.5 values the released config.json leaves implicit (transformers defaults). */
export const DEFAULT_ROPE_THETA = 10000;
/** DINOv2 ViT LayerNorm eps (timm vit_base_patch14_dinov2); open_clip configs do not carry it. */
export const VISION_LAYER_NORM_EPS = 1e-6;
/** LLaVA-Rad decodes at most this many new tokens (SPEC.md §3). */
export const DEFAULT_MAX_NEW_TOKENS = 256;

type Json = Record<string, unknown>;

/** Dimensions of the timm ViTs an open_clip config may name without spelling them out (timm's definitions). */
const TIMM_VITS: Record<
  string,
  { width: number; layers: number; headWidth: number; patchSize: number; mlpRatio: number }
> = {
  // BiomedCLIP-CXR-518 (SPEC.md §1): ViT-B/14, DINOv2 architecture
  vit_base_patch14_dinov2: { width: 768, layers: 12, headWidth: 64, patchSize: 14, mlpRatio: 4 },
  // BiomedCLIP (the 224 px original)
  vit_base_patch16_224: { width: 768, layers: 12, headWidth: 64, patchSize: 16, mlpRatio: 4 },
};

export async function readJson(path: string): Promise<Json> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw inputError(
      missing ? 'weights.missing_file' : 'weights.unreadable',
      missing ? 'file not found' : 'cannot read',
      {
        file: path,
        cause: e,
      },
    );
  }
  try {
    const v = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Json;
  } catch (e) {
    throw inputError('weights.bad_config', 'not valid JSON', { file: path, cause: e });
  }
  throw inputError('weights.bad_config', 'not a JSON object', { file: path });
}

/** Typed field access that names the file and key when a field is missing or of the wrong type. */
class Fields {
  constructor(
    readonly file: string,
    private readonly json: Json,
    private readonly prefix = '',
  ) {}

  private bad(key: string, expected: string, found: unknown): never {
    throw inputError('weights.bad_config', 'config field missing or invalid', {
      file: this.file,
      field: this.prefix + key,
      expected,
      found: found === undefined ? 'nothing' : JSON.stringify(found),
    });
  }

  int(key: string, fallback?: number): number {
    const v = this.json[key] ?? fallback;
    if (!Number.isSafeInteger(v)) this.bad(key, 'an integer', v);
    return v as number;
  }

  positiveInt(key: string, fallback?: number): number {
    const v = this.int(key, fallback);
    if (v <= 0) this.bad(key, 'a positive integer', v);
    return v;
  }

  num(key: string, fallback?: number): number {
    const v = this.json[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.bad(key, 'a number', v);
    return v;
  }

  str(key: string, fallback?: string): string {
    const v = this.json[key] ?? fallback;
    if (typeof v !== 'string') this.bad(key, 'a string', v);
    return v;
  }

  strList(key: string): string[] {
    const v = this.json[key];
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) this.bad(key, 'a list of strings', v);
    return v as string[];
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback?: T): T {
    const v = this.str(key, fallback);
    if (!(allowed as readonly string[]).includes(v)) this.bad(key, allowed.join(' | '), v);
    return v as T;
  }

  sub(key: string): Fields {
    const v = this.json[key];
    if (!v || typeof v !== 'object' || Array.isArray(v)) this.bad(key, 'an object', v);
    return new Fields(this.file, v as Json, `${this.prefix}${key}.`);
  }

  raw(key: string): unknown {
    return this.json[key];
  }
}

export function parseLlamaConfig(file: string, json: Json): LlamaConfig {
  const f = new Fields(file, json);
  const heads = f.positiveInt('num_attention_heads');
  return {
    hiddenSize: f.positiveInt('hidden_size'),
    intermediateSize: f.positiveInt('intermediate_size'),
    numHiddenLayers: f.positiveInt('num_hidden_layers'),
    numAttentionHeads: heads,
    numKeyValueHeads: f.positiveInt('num_key_value_heads', heads),
    vocabSize: f.positiveInt('vocab_size'),
    rmsNormEps: f.num('rms_norm_eps'),
    ropeTheta: f.num('rope_theta', DEFAULT_ROPE_THETA),
    maxPositionEmbeddings: f.positiveInt('max_position_embeddings'),
    bosTokenId: f.int('bos_token_id'),
    eosTokenId: f.int('eos_token_id'),
    padTokenId: f.int('pad_token_id', 0),
  };
}

/** The open_clip model JSON's `vision_cfg` plus LLaVA's feature selection from config.json. */
export function parseVisionConfig(
  openClipFile: string,
  openClip: Json,
  llavaFile: string,
  llava: Json,
): VisionConfig {
  const v = new Fields(openClipFile, openClip).sub('vision_cfg');
  const l = new Fields(llavaFile, llava);
  // open_clip configs of timm towers usually name the timm model and leave its dimensions implicit
  const timm = TIMM_VITS[String(v.raw('timm_model_name') ?? '').split('.')[0]!];
  const width = v.positiveInt('width', timm?.width);
  const layers = v.positiveInt('layers', timm?.layers);
  const headWidth = v.positiveInt('head_width', timm?.headWidth ?? 64);
  if (width % headWidth !== 0) {
    throw inputError('weights.bad_config', 'width is not a multiple of head_width', {
      file: openClipFile,
      field: 'vision_cfg.head_width',
      found: `width ${width}, head_width ${headWidth}`,
    });
  }
  const selectRaw = l.int('mm_vision_select_layer', -2);
  // hidden_states has layers + 1 entries (0 = embeddings); negative indices count from the end as in Python
  const selectLayer = selectRaw < 0 ? layers + 1 + selectRaw : selectRaw;
  if (selectLayer < 0 || selectLayer > layers) {
    throw inputError('weights.bad_config', 'vision select layer out of range', {
      file: llavaFile,
      field: 'mm_vision_select_layer',
      expected: `-${layers + 1}..${layers}`,
      found: String(selectRaw),
    });
  }
  return {
    imageSize: v.positiveInt('image_size'),
    patchSize: v.positiveInt('patch_size', timm?.patchSize),
    width,
    layers,
    heads: width / headWidth,
    mlpDim: Math.round(width * v.num('mlp_ratio', timm?.mlpRatio ?? 4)),
    layerNormEps: VISION_LAYER_NORM_EPS,
    selectLayer,
    selectFeature: l.oneOf('mm_vision_select_feature', ['patch', 'cls_patch'] as const, 'patch'),
  };
}

export function parseProjectorConfig(file: string, json: Json): ProjectorConfig {
  const f = new Fields(file, json);
  return {
    type: f.oneOf('mm_projector_type', ['mlp2x_gelu'] as const),
    inputSize: f.positiveInt('mm_hidden_size'),
    hiddenSize: f.positiveInt('hidden_size'),
  };
}

export function parseLoraConfig(file: string, json: Json): LoraConfig {
  const f = new Fields(file, json);
  f.oneOf('peft_type', ['LORA'] as const, 'LORA');
  if (f.raw('fan_in_fan_out') === true) {
    throw inputError('weights.bad_config', 'fan_in_fan_out LoRA (Conv1D layers) does not apply to LLaMA', {
      file,
      field: 'fan_in_fan_out',
      expected: 'false',
      found: 'true',
    });
  }
  return { r: f.positiveInt('r'), alpha: f.num('lora_alpha'), targetModules: f.strList('target_modules') };
}

export function parseGenerationConfig(file: string, json: Json, llama: LlamaConfig): GenerationDefaults {
  const f = new Fields(file, json);
  return {
    bosTokenId: f.int('bos_token_id', llama.bosTokenId),
    eosTokenId: f.int('eos_token_id', llama.eosTokenId),
    padTokenId: f.int('pad_token_id', llama.padTokenId),
    maxNewTokens: DEFAULT_MAX_NEW_TOKENS,
  };
}
