/**
 * Tensor shapes checked against the typed configs: a mismatch names the tensor, the shape the config
 * implies (and which fields imply it) and the shape found.
 */
import { inputError } from '../errors.js';
import { loraPairs } from './lora.js';
import type { LlamaConfig, LoraConfig, ProjectorConfig, TensorSource, VisionConfig } from './types.js';

/** Expected shape of each named tensor, with the config fields that imply it. */
type ShapeTable = [name: string, shape: number[], why: string][];

function check(source: TensorSource, table: ShapeTable): void {
  for (const [name, shape, why] of table) {
    if (!source.has(name)) {
      throw inputError('weights.missing_tensor', 'tensor missing', { file: source.origin, field: name });
    }
    const found = source.info(name).shape;
    if (found.length !== shape.length || found.some((d, i) => d !== shape[i])) {
      throw inputError('weights.shape_mismatch', 'tensor shape does not fit the config', {
        file: source.origin,
        field: name,
        expected: `[${shape.join(', ')}] (${why})`,
        found: `[${found.join(', ')}]`,
      });
    }
  }
}

export function validateVision(source: TensorSource, c: VisionConfig): void {
  const grid = c.imageSize / c.patchSize;
  if (!Number.isInteger(grid)) {
    throw inputError('weights.bad_config', 'image_size is not a multiple of patch_size', {
      field: 'vision_cfg.image_size',
      found: `${c.imageSize} / ${c.patchSize}`,
    });
  }
  const w = c.width;
  const table: ShapeTable = [
    ['cls_token', [1, 1, w], 'width'],
    ['pos_embed', [1, 1 + grid * grid, w], '1 + (image_size / patch_size)^2, width'],
    ['patch_embed.proj.weight', [w, 3, c.patchSize, c.patchSize], 'width, RGB, patch_size'],
    ['patch_embed.proj.bias', [w], 'width'],
  ];
  for (let i = 0; i < c.layers; i++) {
    const b = `blocks.${i}.`;
    table.push(
      [`${b}norm1.weight`, [w], 'width'],
      [`${b}attn.qkv.weight`, [3 * w, w], '3 * width, width'],
      [`${b}attn.qkv.bias`, [3 * w], '3 * width'],
      [`${b}attn.proj.weight`, [w, w], 'width'],
      [`${b}ls1.gamma`, [w], 'width'],
      [`${b}norm2.weight`, [w], 'width'],
      [`${b}mlp.fc1.weight`, [c.mlpDim, w], 'width * mlp_ratio, width'],
      [`${b}mlp.fc2.weight`, [w, c.mlpDim], 'width, width * mlp_ratio'],
      [`${b}ls2.gamma`, [w], 'width'],
    );
  }
  check(source, table);
  if (source.has(`blocks.${c.layers}.norm1.weight`)) {
    throw inputError('weights.shape_mismatch', 'checkpoint has more blocks than vision_cfg.layers', {
      file: source.origin,
      field: `blocks.${c.layers}`,
      expected: `${c.layers} blocks`,
    });
  }
}

export function validateProjector(source: TensorSource, c: ProjectorConfig): void {
  check(source, [
    ['0.weight', [c.hiddenSize, c.inputSize], 'hidden_size, mm_hidden_size'],
    ['0.bias', [c.hiddenSize], 'hidden_size'],
    ['2.weight', [c.hiddenSize, c.hiddenSize], 'hidden_size, hidden_size'],
    ['2.bias', [c.hiddenSize], 'hidden_size'],
  ]);
}

export function validateLanguage(
  source: TensorSource,
  c: LlamaConfig,
  lora: LoraConfig,
  adapter: TensorSource,
): void {
  const h = c.hiddenSize;
  const kv = (h / c.numAttentionHeads) * c.numKeyValueHeads;
  const table: ShapeTable = [
    ['model.embed_tokens.weight', [c.vocabSize, h], 'vocab_size, hidden_size'],
    ['model.norm.weight', [h], 'hidden_size'],
    ['lm_head.weight', [c.vocabSize, h], 'vocab_size, hidden_size'],
  ];
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const l = `model.layers.${i}.`;
    table.push(
      [`${l}input_layernorm.weight`, [h], 'hidden_size'],
      [`${l}post_attention_layernorm.weight`, [h], 'hidden_size'],
      [`${l}self_attn.q_proj.weight`, [h, h], 'hidden_size'],
      [`${l}self_attn.k_proj.weight`, [kv, h], 'head_dim * num_key_value_heads, hidden_size'],
      [`${l}self_attn.v_proj.weight`, [kv, h], 'head_dim * num_key_value_heads, hidden_size'],
      [`${l}self_attn.o_proj.weight`, [h, h], 'hidden_size'],
      [`${l}mlp.gate_proj.weight`, [c.intermediateSize, h], 'intermediate_size, hidden_size'],
      [`${l}mlp.up_proj.weight`, [c.intermediateSize, h], 'intermediate_size, hidden_size'],
      [`${l}mlp.down_proj.weight`, [h, c.intermediateSize], 'hidden_size, intermediate_size'],
    );
  }
  check(source, table);
  for (const base of loraPairs(adapter).keys()) {
    const module = base.split('.').at(-2)!;
    if (!lora.targetModules.includes(module)) {
      throw inputError('weights.lora_mismatch', 'adapter holds a LoRA for a module not in target_modules', {
        file: adapter.origin,
        field: base,
        expected: lora.targetModules.join(', '),
        found: module,
      });
    }
  }
}
