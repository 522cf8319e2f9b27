import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../src/util/npy.js';
import { openLlavaRad, openSharded, openTensorFile, parseVisionConfig } from '../../src/weights/index.js';
import { FIXTURES } from '../helpers.js';

const TINY = join(FIXTURES, 'oracle/tiny-a');
const LLAVA = join(TINY, 'llava-rad');
const BASES = ['vicuna-7b-v1.5', 'vicuna-7b-v1.5-sharded'];
const Q_PROJ = 'model.layers.0.self_attn.q_proj.weight';
const GOLDEN_TOLERANCE = 1e-6;

/** The tiny-a dimensions from manifest.json `dims`. */
const DIMS = {
  hidden: 128,
  layers: 2,
  inter: 344,
  vocab: 32000,
  width: 64,
  depth: 3,
  mlp: 256,
  patches: 16,
  r: 4,
};

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function golden(name: string): Float32Array {
  return readNpy(join(TINY, 'golden/merged', name)).data as Float32Array;
}

describe.each(BASES)('openLlavaRad on tiny-a with base %s', (base) => {
  it('merges layer-0 q_proj as the official fp16 builder does (default precision)', async () => {
    const w = await openLlavaRad({ llavaDir: LLAVA, baseDir: join(TINY, base) });
    try {
      expect(w.language.info(Q_PROJ)).toEqual({ name: Q_PROJ, dtype: 'F16', shape: [128, 128] });
      const merged = await w.language.readFloat32(Q_PROJ);
      expect(maxAbsDiff(merged, golden('layer0_q_proj_merged_fp16.npy'))).toBeLessThanOrEqual(
        GOLDEN_TOLERANCE,
      );
    } finally {
      await w.close();
    }
  });

  it('keeps the exact float32 sum with mergePrecision fp32', async () => {
    const w = await openLlavaRad({ llavaDir: LLAVA, baseDir: join(TINY, base), mergePrecision: 'fp32' });
    try {
      expect(w.language.info(Q_PROJ).dtype).toBe('F32');
      const merged = await w.language.readFloat32(Q_PROJ);
      expect(maxAbsDiff(merged, golden('layer0_q_proj_merged_exact_f32.npy'))).toBeLessThanOrEqual(
        GOLDEN_TOLERANCE,
      );
      // and the fp16 rounding is visible: the two goldens differ by far more than the tolerance
      expect(maxAbsDiff(golden('layer0_q_proj_merged_fp16.npy'), merged)).toBeGreaterThan(1e-5);
    } finally {
      await w.close();
    }
  });

  it('loads every tensor of every part with the manifest dimensions and typed configs', async () => {
    const w = await openLlavaRad({ llavaDir: LLAVA, baseDir: join(TINY, base) });
    try {
      const { llama, vision, projector, lora } = w.config;
      expect([llama.hiddenSize, llama.numHiddenLayers, llama.intermediateSize, llama.vocabSize]).toEqual([
        DIMS.hidden,
        DIMS.layers,
        DIMS.inter,
        DIMS.vocab,
      ]);
      expect([vision.width, vision.layers, vision.mlpDim, vision.heads, vision.selectLayer]).toEqual([
        DIMS.width,
        DIMS.depth,
        DIMS.mlp,
        4,
        DIMS.depth - 1,
      ]);
      expect(projector).toEqual({ type: 'mlp2x_gelu', inputSize: DIMS.width, hiddenSize: DIMS.hidden });
      expect([lora.r, lora.alpha]).toEqual([DIMS.r, 8]);
      expect(w.vision.info('pos_embed').shape).toEqual([1, 1 + DIMS.patches, DIMS.width]);
      expect(
        w.projector
          .list()
          .map((t) => t.name)
          .sort(),
      ).toEqual(['0.bias', '0.weight', '2.bias', '2.weight']);
      expect(w.language.info('lm_head.weight').shape).toEqual([DIMS.vocab, DIMS.hidden]);
      // text tower and head are not part of the vision trunk
      expect(w.vision.list().some((t) => t.name.includes('text'))).toBe(false);
      for (const part of [w.vision, w.projector, w.language]) {
        for (const t of part.list()) {
          const v = await part.readFloat32(t.name);
          expect(v.length, t.name).toBe(t.shape.reduce((a, b) => a * b, 1));
          expect(v.every(Number.isFinite), t.name).toBe(true);
        }
      }
      expect(w.tokenizerModelPath).toBe(join(TINY, base, 'tokenizer.model'));
    } finally {
      await w.close();
    }
  });
});

describe('torch checkpoints of tiny-a', () => {
  it('the sharded base holds exactly the single-file tensors, byte for byte', async () => {
    const single = await openTensorFile(join(TINY, 'vicuna-7b-v1.5/pytorch_model.bin'));
    const sharded = await openSharded(join(TINY, 'vicuna-7b-v1.5-sharded/pytorch_model.bin.index.json'));
    try {
      expect(
        sharded
          .list()
          .map((t) => t.name)
          .sort(),
      ).toEqual(
        single
          .list()
          .map((t) => t.name)
          .sort(),
      );
      for (const t of single.list()) {
        expect(sharded.info(t.name)).toEqual(t);
        expect(Buffer.compare(await sharded.readBytes(t.name), await single.readBytes(t.name)), t.name).toBe(
          0,
        );
      }
    } finally {
      await Promise.all([single.close(), sharded.close()]);
    }
  });

  it('reads bf16 LoRA factors with the documented shapes', async () => {
    const adapter = await openTensorFile(join(LLAVA, 'adapter_model.bin'));
    try {
      const a = adapter.info('base_model.model.model.layers.1.mlp.down_proj.lora_A.weight');
      const b = adapter.info('base_model.model.model.layers.1.mlp.down_proj.lora_B.weight');
      expect(a).toMatchObject({ dtype: 'BF16', shape: [DIMS.r, DIMS.inter] });
      expect(b).toMatchObject({ dtype: 'BF16', shape: [DIMS.hidden, DIMS.r] });
      expect(adapter.list()).toHaveLength(DIMS.layers * 7 * 2);
    } finally {
      await adapter.close();
    }
  });

  it('reads the CheXbert checkpoint and selects a sub-dict by key', async () => {
    const path = join(FIXTURES, 'oracle/chexbert-tiny/chexbert.pth');
    const all = await openTensorFile(path);
    const model = await openTensorFile(path, { key: 'model_state_dict' });
    try {
      expect(model.list().length).toBeGreaterThan(0);
      expect(model.list().every((t) => all.has(`model_state_dict.${t.name}`))).toBe(true);
      const emb = model.info('module.bert.embeddings.word_embeddings.weight');
      expect(emb).toMatchObject({ dtype: 'F32', shape: [30522, 64] });
    } finally {
      await Promise.all([all.close(), model.close()]);
    }
  });
});

describe('configs', () => {
  it('an open_clip config that only names the timm model gets the ViT-B/14 dimensions (SPEC.md §1)', () => {
    const openClip = { vision_cfg: { timm_model_name: 'vit_base_patch14_dinov2', image_size: 518 } };
    const llava = { mm_vision_select_layer: -2, mm_vision_select_feature: 'patch' };
    expect(parseVisionConfig('o.json', openClip, 'c.json', llava)).toEqual({
      imageSize: 518,
      patchSize: 14,
      width: 768,
      layers: 12,
      heads: 12,
      mlpDim: 3072,
      layerNormEps: 1e-6,
      selectLayer: 11,
      selectFeature: 'patch',
    });
  });

  it('an unknown timm model without dimensions names the missing field', () => {
    const openClip = { vision_cfg: { timm_model_name: 'vit_huge_patch99', image_size: 518 } };
    expect(() => parseVisionConfig('o.json', openClip, 'c.json', {})).toThrow(
      /o\.json: vision_cfg\.width: config field missing/,
    );
  });
});
