/** Model graphs on the tiny-a oracle: the ViT features alone, RoPE tables, and what the graphs contain. */
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCxrError } from '../../src/errors.js';
import { decoderGraph, ropeTables, vitGraph } from '../../src/models/index.js';
import { Graph } from '../../src/onnx/index.js';
import type { LlavaRadWeights, TensorSource } from '../../src/weights/index.js';
import { floats, imageStem, manifest, maxAbsDiff, openTinyA } from './tiny-a.js';

let weights: LlavaRadWeights;
beforeAll(async () => {
  weights = await openTinyA();
});
afterAll(() => weights.close());

describe('ViT (tiny-a)', () => {
  it('stops at the selected block: features = hidden_states[-2] without the class token, within 1e-4', async () => {
    const cfg = weights.config.vision;
    const g = new Graph('vit');
    const px = g.input('pixel_values', 'float32', [1, 3, cfg.imageSize, cfg.imageSize]);
    const P = (cfg.imageSize / cfg.patchSize) ** 2;
    g.output(vitGraph(g, px, cfg, weights.vision, 'fp32'), 'features', 'float32', [1, P, cfg.width]);
    const names = g.nodes.map((n) => n.name);
    expect(names.some((n) => n.startsWith(`/vision/blocks.${cfg.selectLayer - 1}/`))).toBe(true);
    expect(names.some((n) => n.startsWith(`/vision/blocks.${cfg.selectLayer}/`))).toBe(false);
    const session = await ort.InferenceSession.create(await g.toBytes());
    for (const stem of new Set(manifest.cases.map((c) => imageStem(c.image)))) {
      const pixels = floats(`golden/pixels/${stem}.pixel_values.npy`);
      const out = await session.run({
        pixel_values: new ort.Tensor('float32', pixels, [1, 3, cfg.imageSize, cfg.imageSize]),
      });
      expect(
        maxAbsDiff(out.features!.data as Float32Array, floats(`golden/vision/${stem}.features.npy`)),
        stem,
      ).toBeLessThan(1e-4);
    }
    await session.release();
  });
});

describe('LLaMA decoder (tiny-a)', () => {
  it('RoPE tables equal the reference fp32 cos/sin (rotate_half layout: each angle twice)', () => {
    const { cos, sin, half } = ropeTables(weights.config.llama, 128);
    const refCos = floats('golden/rope/cos_f32.npy');
    const refSin = floats('golden/rope/sin_f32.npy');
    const expand = (t: Float32Array) =>
      Float32Array.from(
        { length: 128 * 2 * half },
        (_, i) => t[Math.floor(i / (2 * half)) * half + (i % half)]!,
      );
    expect(maxAbsDiff(expand(cos), refCos)).toBeLessThan(1e-6);
    expect(maxAbsDiff(expand(sin), refSin)).toBeLessThan(1e-6);
  });

  it('uses the contrib kernels and fused projections, nodes named as paths', () => {
    const g = new Graph('decoder');
    decoderGraph(g, weights.config.llama, weights.language, { dtype: 'int4' });
    const types = g.opTypes();
    for (const t of [
      'com.microsoft.RotaryEmbedding',
      'com.microsoft.SkipSimplifiedLayerNormalization',
      'com.microsoft.MatMulNBits',
      'SimplifiedLayerNormalization',
    ]) {
      expect(types).toContain(t);
    }
    const names = g.nodes.map((n) => n.name);
    expect(names).toContain('/model/layers.0/attn/qkv_proj/MatMulNBits');
    expect(names).toContain('/model/layers.1/mlp/down_proj/MatMulNBits');
    expect(names).toContain('/model/lm_head/MatMulNBits');
  });

  it('runs the last layer after its keys and values on the last row only (the golden tests check the logits)', () => {
    const g = new Graph('decoder');
    const cfg = weights.config.llama;
    decoderGraph(g, cfg, weights.language, { dtype: 'fp32' });
    const producer = new Map(g.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
    const postNorm = (layer: number) =>
      g.nodes.find((n) => n.name.startsWith(`/model/layers.${layer}/post_attention_layernorm/`))!;
    const inputOps = (layer: number) => postNorm(layer).inputs.map((i) => producer.get(i)?.opType);
    const last = cfg.numHiddenLayers - 1;
    // The residual entering the last post-attention norm is sliced to one row; earlier layers keep every row.
    expect(inputOps(last)).toContain('Slice');
    expect(inputOps(last - 1)).not.toContain('Slice');
    // The last layer's queries are sliced before the scores; its keys and values stay whole graph outputs.
    const lastAttn = g.nodes.filter((n) => n.name.startsWith(`/model/layers.${last}/attn/`));
    expect(lastAttn.filter((n) => n.opType === 'Slice').length).toBeGreaterThanOrEqual(2);
    const firstAttn = g.nodes.filter((n) => n.name.startsWith('/model/layers.0/attn/'));
    expect(lastAttn.filter((n) => n.opType === 'Slice').length).toBe(
      firstAttn.filter((n) => n.opType === 'Slice').length + 2,
    );
  });
});

/** `source` with one tensor reporting another shape. */
function misshapen(source: TensorSource, name: string, shape: number[]): TensorSource {
  return {
    origin: source.origin,
    list: () => source.list(),
    has: (n) => source.has(n),
    info: (n) => (n === name ? { ...source.info(n), shape } : source.info(n)),
    readFloat32: (n) => source.readFloat32(n),
    readBytes: (n) => source.readBytes(n),
    close: () => source.close(),
  };
}

describe('weights that do not fit the config', () => {
  it.each([
    ['decoder', 'model.layers.1.mlp.down_proj.weight'],
    ['vision', 'blocks.0.attn.qkv.weight'],
    ['vision', 'pos_embed'],
  ])('%s: %s is named in a weights.shape error', (part, name) => {
    const g = new Graph('g');
    const build = () => {
      if (part === 'decoder') {
        decoderGraph(g, weights.config.llama, misshapen(weights.language, name, [3, 5]), { dtype: 'fp32' });
      } else {
        const px = g.input('pixel_values', 'float32', [1, 3, 56, 56]);
        vitGraph(g, px, weights.config.vision, misshapen(weights.vision, name, [3, 5]), 'fp32');
      }
    };
    const e = (() => {
      try {
        build();
      } catch (x) {
        return x;
      }
    })();
    expect(isCxrError(e) && e.code).toBe('weights.shape');
    expect(isCxrError(e) && e.field).toBe(name);
  });
});
