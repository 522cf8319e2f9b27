/**
 * The LLaMA-2 decoder of Vicuna-7B v1.5 (SPEC.md §1), Hugging Face names, as one graph used for prefill and decode.
 *
 *   per layer:  h = RMSNorm(x) ; q, k, v = h Wq^T, h Wk^T, h Wv^T ; q, k = RoPE(q, k at positions)
 *               a = softmax(q [K_past ; k]^T / sqrt(d) + mask) [V_past ; v] ; x = x + a Wo^T
 *               h = RMSNorm(x) ; x = x + Wdown (silu(h Wgate^T) * (h Wup^T))
 *   logits = RMSNorm(x[last]) Wlm^T
 *
 * Only the last position's hidden state reaches the logits, so the last layer computes its keys and values for
 * every row (they go to the cache) but its attention output and MLP for the last row alone: in a 1,430-token
 * prefill that skips 2.6% of the decoder's multiply-adds (llama.cpp trims its last layer the same way).
 *
 * The KV cache lives in caller-owned buffers passed as inputs (onnxruntime-node wraps input buffers without
 * copying): keys transposed [1, heads, headDim, capacity] so that q K^T is a plain MatMul over the cache (a
 * transposed operand would be copied by the kernel every step), values [1, heads, capacity, headDim]. The graph
 * returns only the new k (after RoPE, in the same transposed layout) and v, which the caller appends. Past and new
 * keys are attended to without concatenation (two score blocks, one softmax), so no step copies the cache.
 * (GroupQueryAttention with shared past/present buffers is not used: onnxruntime-node hands back every fetched
 * output as a fresh copy, so a cache bound as an output would be copied whole every step; test/onnx/ops.test.ts.)
 * `attention_mask` is additive, 0 where visible and -inf where not: [1, 1, S, P + S] with float32 keys (the caller
 * masks the unused tail of the capacity and the causal triangle of the new block); [1, 1, S, S] with int8 keys,
 * whose bias plane holds +inf at unused positions and so masks them inside the product (no pass over the scores).
 */
import { type Graph, Scope } from '../onnx/graph.js';
import * as op from '../onnx/ops.js';
import { bytesOf, toFloat16 } from '../onnx/tensor.js';
import type { LlamaConfig, TensorSource } from '../weights/types.js';
import { type DecoderDtype, expectShape, floatTensor, matrix } from './weights.js';

export const LLAMA_WEIGHTS = {
  embedTokens: 'model.embed_tokens.weight', // [vocab, hidden]
  finalNorm: 'model.norm.weight',
  lmHead: 'lm_head.weight', // [vocab, hidden]
  layer: (i: number) => ({
    inputNorm: `model.layers.${i}.input_layernorm.weight`,
    q: `model.layers.${i}.self_attn.q_proj.weight`, // [heads * d, hidden]
    k: `model.layers.${i}.self_attn.k_proj.weight`, // [kvHeads * d, hidden]
    v: `model.layers.${i}.self_attn.v_proj.weight`,
    o: `model.layers.${i}.self_attn.o_proj.weight`, // [hidden, heads * d]
    postNorm: `model.layers.${i}.post_attention_layernorm.weight`,
    gate: `model.layers.${i}.mlp.gate_proj.weight`, // [ffn, hidden]
    up: `model.layers.${i}.mlp.up_proj.weight`,
    down: `model.layers.${i}.mlp.down_proj.weight`, // [hidden, ffn]
  }),
} as const;

/** Names of the decoder graph's inputs and outputs (the contract with the session code). */
export const DECODER_IO = {
  embeds: 'inputs_embeds', // float [1, S, hidden]
  positions: 'position_ids', // int64 [1, S]
  mask: 'attention_mask', // float [1, 1, S, P + S] (float32 keys) or [1, 1, S, S] (int8 keys)
  pastKey: (i: number) => `past_key.${i}`, // float [1, kvHeads, d, P] (transposed)
  pastValue: (i: number) => `past_value.${i}`, // float [1, kvHeads, P, d]
  newKey: (i: number) => `key.${i}`, // float [1, kvHeads, d, S] (transposed)
  newValue: (i: number) => `value.${i}`, // float [1, kvHeads, S, d]
  // 8-bit keys (KvKeys 'int8'): key.i / past_key.i are int8, with per-position scale and bias rows.
  pastKeyScale: (i: number) => `past_key_scale.${i}`, // float [1, kvHeads, 1, P]
  pastKeyBias: (i: number) => `past_key_bias.${i}`, // float [1, kvHeads, 1, P]
  newKeyScale: (i: number) => `key_scale.${i}`, // float [1, kvHeads, 1, S]
  newKeyBias: (i: number) => `key_bias.${i}`, // float [1, kvHeads, 1, S]
  logits: 'logits', // float [1, vocab]
  inputIds: 'input_ids', // int64 [1, S] (embedding graph)
} as const;

/**
 * How cached keys are stored: float32, or int8 with one scale per (head, position), which reads a quarter of the
 * bytes on every decode step (at 7B and 1,430 positions the float keys are 750 MB a step) and runs q K^T as a uint8 x
 * int8 product (MLAS's VNNI path). New keys are attended to in float32 by the run that computes them.
 */
export const KV_KEYS = ['float32', 'int8'] as const;
export type KvKeys = (typeof KV_KEYS)[number];

export interface DecoderGraphOptions {
  dtype: DecoderDtype;
  /** Cached key storage (default float32). */
  kvKeys?: KvKeys;
  /** MatMulNBits compute precision for int8/int4 weights (default op.DEFAULT_ACCURACY_LEVEL). */
  accuracyLevel?: op.AccuracyLevel;
  /** Block length of int4 weights (default DEFAULT_INT4_BLOCK_SIZE; lm_head stays 8-bit in blocks of 32). */
  int4BlockSize?: number;
}

export function headDim(cfg: LlamaConfig): number {
  return cfg.hiddenSize / cfg.numAttentionHeads;
}

/**
 * RoPE tables [positions, d / 2] as Hugging Face computes them in float32:
 * inv_freq = 1 / theta^(2i / d), angle = fp32(position * inv_freq); the rotate_half layout uses each twice.
 */
export function ropeTables(cfg: LlamaConfig, positions = cfg.maxPositionEmbeddings) {
  const half = headDim(cfg) / 2;
  const cos = new Float32Array(positions * half);
  const sin = new Float32Array(positions * half);
  const f = Math.fround;
  for (let i = 0; i < half; i++) {
    const invFreq = f(1 / f(cfg.ropeTheta ** f((2 * i) / (2 * half))));
    for (let p = 0; p < positions; p++) {
      const angle = f(p * invFreq);
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin, half };
}

/**
 * The embedding lookup graph: input_ids [1, S] -> inputs_embeds [1, S, hidden]. Kept apart from the decoder so
 * that image rows can be spliced between token rows. Quantised bundles keep the table in fp16 (rows cast on lookup).
 */
export function embeddingGraph(g: Graph, cfg: LlamaConfig, w: TensorSource, dtype: DecoderDtype): void {
  const s = new Scope(g, '/model/embed_tokens');
  const ids = g.input(DECODER_IO.inputIds, 'int64', [1, 'sequence']);
  const name = LLAMA_WEIGHTS.embedTokens;
  expectShape(w, name, [cfg.vocabSize, cfg.hiddenSize]);
  let rows: string;
  if (dtype === 'fp32') {
    rows = op.gather(s, floatTensor(s, w, name), ids, 0);
  } else {
    const read = async () => bytesOf(toFloat16(await w.readFloat32(name)));
    const table = s.tensor('weight', 'float16', [cfg.vocabSize, cfg.hiddenSize], read);
    rows = op.cast(s, op.gather(s, table, ids, 0), 'float32');
  }
  g.output(rows, DECODER_IO.embeds, 'float32', [1, 'sequence', cfg.hiddenSize]);
}

export function decoderGraph(g: Graph, cfg: LlamaConfig, w: TensorSource, opts: DecoderGraphOptions): void {
  if (cfg.numKeyValueHeads !== cfg.numAttentionHeads) {
    throw new Error('decoderGraph: grouped key/value heads are not supported (LLaMA-2 7B has none)');
  }
  const d = headDim(cfg);
  const root = new Scope(g, '/model');
  let x = g.input(DECODER_IO.embeds, 'float32', [1, 'sequence', cfg.hiddenSize]);
  const positions = g.input(DECODER_IO.positions, 'int64', [1, 'sequence']);
  const maskWidth = opts.kvKeys === 'int8' ? 'sequence' : 'total';
  const mask = g.input(DECODER_IO.mask, 'float32', [1, 1, 'sequence', maskWidth]);
  const rope = ropeTables(cfg);
  const [cos, sin] = (['cos', 'sin'] as const).map((k) =>
    root.tensor(`rotary/${k}_cache`, 'float32', [cfg.maxPositionEmbeddings, rope.half], bytesOf(rope[k])),
  ) as [string, string];
  const ctx: LayerContext = { cfg, w, opts, d, positions, mask, cos, sin };

  let pending: string | null = null; // the last sub-layer's output, added to x by the next fused norm
  const lastLayer = cfg.numHiddenLayers - 1;
  for (let i = 0; i < cfg.numHiddenLayers; i++) {
    const n = LLAMA_WEIGHTS.layer(i);
    checkLayerShapes(w, cfg, n);
    const s = root.child(`layers.${i}`);
    const norm = (sc: Scope, weightName: string): string => {
      const scale = floatTensor(sc, w, weightName);
      if (pending === null) return op.rmsNorm(sc, x, scale, cfg.rmsNormEps);
      const [h, sum] = op.skipRmsNorm(sc, pending, x, scale, cfg.rmsNormEps); // x = x + pending; h = RMSNorm(x)
      x = sum;
      return h;
    };
    const h1 = norm(s.child('input_layernorm'), n.inputNorm);
    pending = attention(s.child('attn'), h1, i, ctx, i === lastLayer);
    if (i === lastLayer) x = lastRow(s, x); // [1, 1, hidden] from here on
    const h2 = norm(s.child('post_attention_layernorm'), n.postNorm);
    pending = mlp(s.child('mlp'), h2, i, ctx);
  }

  // x and pending hold the last position only: x[last] = x + pending, then the final norm and lm_head.
  const last = root.child('last');
  const hidden = op.rmsNorm(
    root.child('norm'),
    op.add(last, x, pending!),
    floatTensor(root, w, LLAMA_WEIGHTS.finalNorm),
    cfg.rmsNormEps,
  );
  // int4 bundles keep lm_head at 8 bits: it is ~2% of the weights and 4 bits there cost the most top-1 agreement.
  const headOpts = linearOpts(opts.dtype === 'int4' ? { ...opts, dtype: 'int8' } : opts);
  const logits = op.linear(root.child('lm_head'), hidden, matrix(w, LLAMA_WEIGHTS.lmHead), headOpts);
  g.output(op.reshape(last, logits, [1, cfg.vocabSize]), DECODER_IO.logits, 'float32', [1, cfg.vocabSize]);
}

/** Every tensor of a layer against the config, so a mismatch names the tensor instead of failing in the runtime. */
function checkLayerShapes(
  w: TensorSource,
  cfg: LlamaConfig,
  n: ReturnType<typeof LLAMA_WEIGHTS.layer>,
): void {
  const H = cfg.hiddenSize;
  const F = cfg.intermediateSize;
  for (const name of [n.q, n.k, n.v, n.o]) expectShape(w, name, [H, H]);
  for (const name of [n.gate, n.up]) expectShape(w, name, [F, H]);
  expectShape(w, n.down, [H, F]);
  for (const name of [n.inputNorm, n.postNorm]) expectShape(w, name, [H]);
}

interface LayerContext {
  cfg: LlamaConfig;
  w: TensorSource;
  opts: DecoderGraphOptions;
  d: number;
  positions: string;
  mask: string;
  cos: string;
  sin: string;
}

function linearOpts(opts: DecoderGraphOptions): op.LinearOptions {
  return {
    format: opts.dtype,
    accuracyLevel: opts.accuracyLevel ?? op.DEFAULT_ACCURACY_LEVEL,
    ...(opts.dtype === 'int4' && opts.int4BlockSize ? { blockSize: opts.int4BlockSize } : {}),
  };
}

/** Row S - 1 of a [1, S, ...] or [1, 1, S, ...] tensor, keeping the axis: [1, 1, ...]. */
function lastRow(s: Scope, x: string, axis = 1): string {
  return op.slice(s, x, [-1], [Number.MAX_SAFE_INTEGER], [axis]);
}

/**
 * Causal self-attention over [past ; new]; registers the new k/v rows as graph outputs. With `lastQueryOnly`
 * the output is the last row's alone ([1, 1, hidden]).
 */
function attention(s: Scope, h: string, i: number, c: LayerContext, lastQueryOnly = false): string {
  const { cfg, w, d } = c;
  const n = LLAMA_WEIGHTS.layer(i);
  const H = cfg.numAttentionHeads;
  const g = s.graph;
  const qkv = op.linear(
    s.child('qkv_proj'),
    h,
    op.stackRows([matrix(w, n.q), matrix(w, n.k), matrix(w, n.v)]),
    linearOpts(c.opts),
  );
  const [q, k, v] = op.split(s, qkv, [cfg.hiddenSize, cfg.hiddenSize, cfg.hiddenSize], 2); // [1, S, H*d] each
  const toHeads = (t: string) => op.reshape(s, t, [1, 0, H, d]); // [1, S, H, d]
  const rotate = (name: string, t: string) =>
    op.rotaryEmbedding(s.child(name), t, c.positions, c.cos, c.sin, H);
  // q is scaled by 1/sqrt(d) before the products (cheaper than scaling the [S, P + S] scores).
  let qh = op.transpose(
    s,
    toHeads(op.mul(s, rotate('q_rotary', q!), op.scalarF32(s, 1 / Math.sqrt(d)))),
    [0, 2, 1, 3],
  ); // [1, H, S, d]
  let mask = c.mask;
  if (lastQueryOnly) {
    qh = lastRow(s, qh, 2); // [1, H, 1, d]
    mask = lastRow(s, mask, 2); // [1, 1, 1, width]
  }
  const kt = op.transpose(s, toHeads(rotate('k_rotary', k!)), [0, 2, 3, 1]); // [1, H, d, S]
  const vh = op.transpose(s, toHeads(v!), [0, 2, 1, 3]); // [1, H, S, d]
  g.output(vh, DECODER_IO.newValue(i), 'float32', [1, H, 'sequence', d]);
  const pastV = g.input(DECODER_IO.pastValue(i), 'float32', [1, H, 'past', d]);
  const pastScores =
    c.opts.kvKeys === 'int8' ? int8KeyScores(s, qh, kt, i, c) : floatKeyScores(s, qh, kt, i, c);
  const newScores = op.matmul(s, qh, kt); // [1, H, S, S]
  const scores =
    c.opts.kvKeys === 'int8'
      ? op.concat(s, [pastScores, op.add(s, newScores, mask)], -1)
      : op.add(s, op.concat(s, [pastScores, newScores], -1), mask); // [1, H, S, P + S]
  const probs = op.softmax(s, scores, -1);
  const past = op.shapeRange(s, pastV, 2, 3); // [P]
  const probsPast = op.sliceDynamic(s, probs, op.ints(s, [0]), past, op.ints(s, [3]));
  const probsNew = op.sliceDynamic(s, probs, past, op.ints(s, [Number.MAX_SAFE_INTEGER]), op.ints(s, [3]));
  const ctx = op.add(s, op.matmul(s, probsPast, pastV), op.matmul(s, probsNew, vh)); // [1, H, S, d]
  const merged = op.reshape(s, op.transpose(s, ctx, [0, 2, 1, 3]), [1, 0, cfg.hiddenSize]); // [1, S, H*d]
  return op.linear(s.child('o_proj'), merged, matrix(w, n.o), linearOpts(c.opts));
}

/** q K_past^T [1, H, S, P] over float32 cached keys; returns the new keys kt as they are. */
function floatKeyScores(s: Scope, qh: string, kt: string, i: number, c: LayerContext): string {
  const g = s.graph;
  const H = c.cfg.numAttentionHeads;
  g.output(kt, DECODER_IO.newKey(i), 'float32', [1, H, c.d, 'sequence']);
  return op.matmul(s, qh, g.input(DECODER_IO.pastKey(i), 'float32', [1, H, c.d, 'past']));
}

/**
 * q K_past^T [1, H, S, P] over int8 cached keys k = scale_k * kq (per head and position). q is quantised per head
 * and row to q = scale_q * (qu - 128) with qu uint8, so that the product is MatMulInteger's uint8 x int8 path
 * without zero points (4x faster than with one here); the 128 offset is removed with the key's stored bias
 * 128 * scale_k * sum(kq):  q.k = scale_q * (scale_k * (qu . kq) - bias_k). The cache keeps bias_k = +inf at
 * positions not yet written, which makes their scores -inf: the past needs no mask.
 * Returns the new keys quantised the same way, with their scales and biases.
 */
function int8KeyScores(s: Scope, qh: string, kt: string, i: number, c: LayerContext): string {
  const g = s.graph;
  const H = c.cfg.numAttentionHeads;
  const [kq, kScale] = op.quantize8(s.child('key_quant'), kt, 2, 'int8'); // [1, H, d, S], [1, H, 1, S]
  const kSum = op.reduceSum(s, op.cast(s, kq, 'float32'), [2]);
  const kBias = op.mul(s, op.mul(s, kSum, kScale), op.scalarF32(s, 128));
  g.output(kq, DECODER_IO.newKey(i), 'int8', [1, H, c.d, 'sequence']);
  g.output(kScale, DECODER_IO.newKeyScale(i), 'float32', [1, H, 1, 'sequence']);
  g.output(kBias, DECODER_IO.newKeyBias(i), 'float32', [1, H, 1, 'sequence']);

  const pastK = g.input(DECODER_IO.pastKey(i), 'int8', [1, H, c.d, 'past']);
  const pastScale = g.input(DECODER_IO.pastKeyScale(i), 'float32', [1, H, 1, 'past']);
  const pastBias = g.input(DECODER_IO.pastKeyBias(i), 'float32', [1, H, 1, 'past']);
  const [qu, qScale] = op.quantize8(s.child('query_quant'), qh, 3, 'uint8'); // [1, H, S, d], [1, H, S, 1]
  const dots = op.cast(s, op.matMulInteger(s, qu, pastK), 'float32');
  return op.mul(s, op.sub(s, op.mul(s, dots, pastScale), pastBias), qScale);
}

/** SwiGLU: down(silu(gate(h)) * up(h)), gate and up fused into one projection. */
function mlp(s: Scope, h: string, i: number, c: LayerContext): string {
  const n = LLAMA_WEIGHTS.layer(i);
  const F = c.cfg.intermediateSize;
  const gu = op.linear(
    s.child('gate_up_proj'),
    h,
    op.stackRows([matrix(c.w, n.gate), matrix(c.w, n.up)]),
    linearOpts(c.opts),
  );
  const [gate, up] = op.split(s, gu, [F, F], 2);
  const act = op.mul(s, op.silu(s.child('act'), gate!), up!);
  return op.linear(s.child('down_proj'), act, matrix(c.w, n.down), linearOpts(c.opts));
}
