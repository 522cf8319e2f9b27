/**
 * The DINOv2-style ViT-B/14 vision tower of LLaVA-Rad (SPEC.md §1), timm `vit_base_patch14_dinov2` names.
 *
 *   x_0 = [cls ; PatchConv(pixels)] + pos_embed                         [1, 1 + P, D]
 *   block i:  x = x + ls1 * Attn(LayerNorm1(x))                          (pre-norm, LayerScale)
 *             x = x + ls2 * fc2(GELU(fc1(LayerNorm2(x))))
 *   features = x_{selectLayer} without the class token                  [P, D]
 * x_j is the output of block j-1 (hidden_states[j]); blocks past the selected one and the final norm are never run.
 */
import { type Graph, Scope } from '../onnx/graph.js';
import * as op from '../onnx/ops.js';
import type { TensorSource, VisionConfig } from '../weights/types.js';
import { expectShape, floatTensor, matrix, type VisionDtype } from './weights.js';

export const VIT_WEIGHTS = {
  patchWeight: 'patch_embed.proj.weight', // [D, 3, p, p]
  patchBias: 'patch_embed.proj.bias',
  clsToken: 'cls_token', // [1, 1, D]
  posEmbed: 'pos_embed', // [1, 1 + P, D]
  block: (i: number) => ({
    norm1Weight: `blocks.${i}.norm1.weight`,
    norm1Bias: `blocks.${i}.norm1.bias`,
    qkvWeight: `blocks.${i}.attn.qkv.weight`, // [3D, D]
    qkvBias: `blocks.${i}.attn.qkv.bias`,
    projWeight: `blocks.${i}.attn.proj.weight`,
    projBias: `blocks.${i}.attn.proj.bias`,
    ls1: `blocks.${i}.ls1.gamma`,
    norm2Weight: `blocks.${i}.norm2.weight`,
    norm2Bias: `blocks.${i}.norm2.bias`,
    fc1Weight: `blocks.${i}.mlp.fc1.weight`, // [mlp, D]
    fc1Bias: `blocks.${i}.mlp.fc1.bias`,
    fc2Weight: `blocks.${i}.mlp.fc2.weight`, // [D, mlp]
    fc2Bias: `blocks.${i}.mlp.fc2.bias`,
    ls2: `blocks.${i}.ls2.gamma`,
  }),
} as const;

export function vitPatches(cfg: VisionConfig): number {
  return (cfg.imageSize / cfg.patchSize) ** 2;
}

/**
 * Adds the tower to `g` reading `pixels` [1, 3, S, S]; returns the selected features [1, P, D] (or [1, 1 + P, D]
 * for `cls_patch`).
 */
export function vitGraph(
  g: Graph,
  pixels: string,
  cfg: VisionConfig,
  w: TensorSource,
  dtype: VisionDtype,
): string {
  const s = new Scope(g, '/vision');
  const D = cfg.width;
  const P = vitPatches(cfg);
  const t = (name: string) => floatTensor(s, w, name);
  expectShape(w, VIT_WEIGHTS.patchWeight, [D, 3, cfg.patchSize, cfg.patchSize]);
  expectShape(w, VIT_WEIGHTS.posEmbed, [1, 1 + P, D]); // no interpolation: the image size is the trained one

  // Patch embedding: Conv p x p stride p -> [1, D, S/p, S/p] -> [1, P, D]
  const emb = s.child('patch_embed');
  const patches = op.conv(emb, pixels, t(VIT_WEIGHTS.patchWeight), t(VIT_WEIGHTS.patchBias), {
    kernel: [cfg.patchSize, cfg.patchSize],
    strides: [cfg.patchSize, cfg.patchSize],
  });
  const tokens = op.transpose(emb, op.reshape(emb, patches, [1, D, P]), [0, 2, 1]); // [1, P, D]
  let x = op.add(emb, op.concat(emb, [t(VIT_WEIGHTS.clsToken), tokens], 1), t(VIT_WEIGHTS.posEmbed)); // [1, 1+P, D]

  for (let i = 0; i < cfg.selectLayer; i++) x = vitBlock(s.child(`blocks.${i}`), x, cfg, w, i, dtype);

  if (cfg.selectFeature === 'cls_patch') return x;
  return op.slice(s.child('select'), x, [1], [1 + P], [1]); // [1, P, D]
}

function vitBlock(
  s: Scope,
  x: string,
  cfg: VisionConfig,
  w: TensorSource,
  i: number,
  dtype: VisionDtype,
): string {
  const n = VIT_WEIGHTS.block(i);
  const D = cfg.width;
  expectShape(w, n.qkvWeight, [3 * D, D]);
  expectShape(w, n.projWeight, [D, D]);
  expectShape(w, n.fc1Weight, [cfg.mlpDim, D]);
  expectShape(w, n.fc2Weight, [D, cfg.mlpDim]);
  const t = (name: string) => floatTensor(s, w, name);
  const lin = (sc: Scope, h: string, weight: string, bias: string) =>
    op.linear(sc, h, matrix(w, weight), { format: dtype, bias: t(bias) });

  const h1 = op.layerNorm(s.child('norm1'), x, t(n.norm1Weight), t(n.norm1Bias), cfg.layerNormEps);
  const attn = selfAttention(s.child('attn'), h1, cfg, (sc, h) => lin(sc, h, n.qkvWeight, n.qkvBias));
  const o = lin(s.child('attn/proj'), attn, n.projWeight, n.projBias);
  x = op.add(s, x, op.mul(s.child('ls1'), o, t(n.ls1)));

  const h2 = op.layerNorm(s.child('norm2'), x, t(n.norm2Weight), t(n.norm2Bias), cfg.layerNormEps);
  const up = op.gelu(s.child('mlp/act'), lin(s.child('mlp/fc1'), h2, n.fc1Weight, n.fc1Bias));
  const down = lin(s.child('mlp/fc2'), up, n.fc2Weight, n.fc2Bias);
  return op.add(s, x, op.mul(s.child('ls2'), down, t(n.ls2)));
}

/** softmax(q k^T / sqrt(d)) v over all tokens, heads split from the fused qkv projection. */
function selfAttention(
  s: Scope,
  h: string,
  cfg: VisionConfig,
  qkvProj: (s: Scope, h: string) => string,
): string {
  const T = 1 + vitPatches(cfg);
  const hd = cfg.width / cfg.heads;
  const qkv = qkvProj(s.child('qkv'), h); // [1, T, 3D]
  const heads = op.transpose(s, op.reshape(s, qkv, [1, T, 3, cfg.heads, hd]), [2, 0, 3, 1, 4]); // [3, 1, H, T, hd]
  const [q, k, v] = op.split(s, heads, [1, 1, 1], 0).map((p) => op.reshape(s, p, [1, cfg.heads, T, hd]));
  const scores = op.mul(
    s,
    op.matmul(s, q!, op.transpose(s, k!, [0, 1, 3, 2])),
    op.scalarF32(s, 1 / Math.sqrt(hd)),
  );
  const ctx = op.matmul(s, op.softmax(s, scores, -1), v!); // [1, H, T, hd]
  return op.reshape(s, op.transpose(s, ctx, [0, 2, 1, 3]), [1, T, cfg.width]); // [1, T, D]
}
