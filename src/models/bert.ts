/**
 * The CheXbert labeler as an ONNX graph: a BERT encoder (Hugging Face `BertModel`, post-norm layers, exact GELU)
 * and 14 linear heads on the CLS vector of the last layer (13 with four classes, No Finding with two).
 *
 *   e   = LayerNorm(word[ids] + token_type[0] + position[0..L-1])                      [B, L, H]
 *   a   = LayerNorm(x + Wo · MHA(Wq x, Wk x, Wv x; key padding mask))                   per layer
 *   x'  = LayerNorm(a + W2 · gelu(W1 a + b1) + b2)                                      gelu = exact erf
 *   logits_i = Wh_i · x_last[:, 0] + bh_i                                                i = 0..13
 *
 * Only the CLS row leaves the encoder, so the last layer computes its query, attention output and
 * feed-forward for that row alone (keys and values still cover every position). Kernels: ONNX Runtime's fused
 * Attention (q/k/v projection inside) for full layers, MultiHeadAttention for the one-row layer,
 * SkipLayerNormalization for dense + residual + LayerNorm, BiasGelu.
 */
import { inputError } from '../errors.js';
import { Graph, type MatrixSource, op, type Scope } from '../onnx/index.js';
import type { TensorSource } from '../weights/index.js';

export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
}

/** bert-base-uncased's config.json, which the official CheXbert code loads from the hub (not from chexbert.pth). */
export const BERT_BASE_UNCASED: BertConfig = {
  vocabSize: 30522,
  hiddenSize: 768,
  numHiddenLayers: 12,
  numAttentionHeads: 12,
  intermediateSize: 3072,
  maxPositionEmbeddings: 512,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
};

/** CheXbert's heads: 13 observations with classes blank/positive/negative/uncertain, then No Finding (blank/positive). */
export const CHEXBERT_HEADS = 14;
export const CHEXBERT_CLASSES = 4;
export const NO_FINDING_CLASSES = 2;
/** Attention scores of padding positions get this added, as Hugging Face's `(1 - mask) * finfo(float32).min`. */
const FLOAT32_MIN = -3.4028234663852886e38;

/** Checkpoint names (bert_labeler's state_dict without DataParallel's `module.`). */
export const bertNames = {
  wordEmbeddings: 'bert.embeddings.word_embeddings.weight',
  positionEmbeddings: 'bert.embeddings.position_embeddings.weight',
  tokenTypeEmbeddings: 'bert.embeddings.token_type_embeddings.weight',
  embeddingsNorm: 'bert.embeddings.LayerNorm',
  layer: (i: number) => `bert.encoder.layer.${i}`,
  head: (i: number) => `linear_heads.${i}`,
} as const;

/** A Hugging Face BERT config.json as a BertConfig; `file` names it in errors. */
export function bertConfigFromJson(json: unknown, file: string): BertConfig {
  const j = (json ?? {}) as Record<string, unknown>;
  const num = (key: string, fallback?: number): number => {
    const v = j[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw inputError('bert.bad_config', 'missing or non-numeric field', {
        file,
        field: key,
        expected: 'a number',
      });
    return v;
  };
  if (j.hidden_act !== undefined && j.hidden_act !== 'gelu')
    throw inputError('bert.bad_config', 'unsupported activation', {
      file,
      field: 'hidden_act',
      expected: 'gelu',
      found: String(j.hidden_act),
    });
  if (j.position_embedding_type !== undefined && j.position_embedding_type !== 'absolute')
    throw inputError('bert.bad_config', 'unsupported position embeddings', {
      file,
      field: 'position_embedding_type',
      expected: 'absolute',
      found: String(j.position_embedding_type),
    });
  return {
    vocabSize: num('vocab_size'),
    hiddenSize: num('hidden_size'),
    numHiddenLayers: num('num_hidden_layers'),
    numAttentionHeads: num('num_attention_heads'),
    intermediateSize: num('intermediate_size'),
    maxPositionEmbeddings: num('max_position_embeddings'),
    typeVocabSize: num('type_vocab_size', 2),
    layerNormEps: num('layer_norm_eps', 1e-12),
  };
}

/** Every tensor of bert_labeler the graph reads, with its shape under `c`, in state_dict order. */
export function chexbertWeightShapes(c: BertConfig): Array<[name: string, shape: number[]]> {
  const H = c.hiddenSize;
  const shapes: Array<[string, number[]]> = [
    [bertNames.wordEmbeddings, [c.vocabSize, H]],
    [bertNames.positionEmbeddings, [c.maxPositionEmbeddings, H]],
    [bertNames.tokenTypeEmbeddings, [c.typeVocabSize, H]],
  ];
  const norm = (p: string) => shapes.push([`${p}.weight`, [H]], [`${p}.bias`, [H]]);
  const dense = (p: string, out: number, inp: number) =>
    shapes.push([`${p}.weight`, [out, inp]], [`${p}.bias`, [out]]);
  norm(bertNames.embeddingsNorm);
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const l = bertNames.layer(i);
    for (const m of ['query', 'key', 'value']) dense(`${l}.attention.self.${m}`, H, H);
    dense(`${l}.attention.output.dense`, H, H);
    norm(`${l}.attention.output.LayerNorm`);
    dense(`${l}.intermediate.dense`, c.intermediateSize, H);
    dense(`${l}.output.dense`, H, c.intermediateSize);
    norm(`${l}.output.LayerNorm`);
  }
  for (let i = 0; i < CHEXBERT_HEADS; i++)
    dense(bertNames.head(i), i === CHEXBERT_HEADS - 1 ? NO_FINDING_CLASSES : CHEXBERT_CLASSES, H);
  return shapes;
}

/** Check every tensor the graph reads against the config, naming the first that does not fit. */
export function validateChexbertWeights(w: TensorSource, c: BertConfig): void {
  if (c.hiddenSize % c.numAttentionHeads !== 0)
    throw inputError('bert.bad_config', 'hidden size is not a multiple of the head count', {
      field: 'num_attention_heads',
      found: `${c.hiddenSize} / ${c.numAttentionHeads}`,
    });
  for (const [name, shape] of chexbertWeightShapes(c)) {
    const info = w.info(name);
    if (info.shape.join(',') !== shape.join(','))
      throw inputError('bert.shape_mismatch', 'tensor shape does not fit the BERT config', {
        file: w.origin,
        field: name,
        expected: `[${shape}]`,
        found: `[${info.shape}]`,
      });
  }
  if (w.has(`${bertNames.layer(c.numHiddenLayers)}.attention.self.query.weight`))
    throw inputError('bert.shape_mismatch', 'the checkpoint has more encoder layers than the config', {
      file: w.origin,
      field: 'num_hidden_layers',
      expected: String(c.numHiddenLayers),
    });
}

/** Graph inputs and outputs of the CheXbert graph. */
export const CHEXBERT_IO = {
  /** int64 [B, L]: [CLS] ... [SEP] then padding (id 0). */
  inputIds: 'input_ids',
  /** int32 [B, L]: 1 for real tokens, 0 for padding. */
  attentionMask: 'attention_mask',
  /** float32 [B, 13, 4]: heads 0..12. */
  logits: 'logits',
  /** float32 [B, 2]: the No Finding head. */
  noFindingLogits: 'no_finding_logits',
  /** float32 [B, H]: the last layer's CLS vector. */
  cls: 'cls',
} as const;

/** Build the CheXbert graph from its checkpoint tensors (names as `bertNames`, validated first). */
export function buildChexbertGraph(w: TensorSource, c: BertConfig): Graph {
  validateChexbertWeights(w, c);
  const g = new Graph('chexbert');
  const ids = g.input(CHEXBERT_IO.inputIds, 'int64', ['batch', 'length']);
  const mask = g.input(CHEXBERT_IO.attentionMask, 'int32', ['batch', 'length']);
  const root = g.root('/model');
  let x = embeddings(root.child('embeddings'), w, c, ids); // [B, L, H]
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const clsOnly = i === c.numHiddenLayers - 1; // [B, L, H] -> [B, 1, H]
    x = encoderLayer(root.child(`layers.${i}`), w, c, bertNames.layer(i), x, mask, clsOnly);
  }
  const cls = op.reshape(root.child('cls'), x, [0, c.hiddenSize]); // [B, 1, H] -> [B, H]
  const [logits, noFinding] = heads(root.child('heads'), w, cls);
  g.output(cls, CHEXBERT_IO.cls, 'float32', ['batch', c.hiddenSize]);
  g.output(logits, CHEXBERT_IO.logits, 'float32', ['batch', CHEXBERT_HEADS - 1, CHEXBERT_CLASSES]);
  g.output(noFinding, CHEXBERT_IO.noFindingLogits, 'float32', ['batch', NO_FINDING_CLASSES]);
  return g;
}

const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function tensor(s: Scope, w: TensorSource, name: string, local: string): string {
  const info = w.info(name);
  return s.tensor(local, 'float32', info.shape, async () => bytesOf(await w.readFloat32(name)));
}

function matrix(w: TensorSource, name: string): MatrixSource {
  const [out, inp] = w.info(name).shape as [number, number];
  return { out, in: inp, read: () => w.readFloat32(name) };
}

/** Concatenated biases of the Linear layers `names` (checkpoint prefixes), one initializer [sum of outs]. */
function stackedBias(s: Scope, w: TensorSource, names: string[]): string {
  const sizes = names.map((n) => w.info(`${n}.bias`).shape[0]!);
  const total = sizes.reduce((a, b) => a + b, 0);
  return s.tensor('bias', 'float32', [total], async () => {
    const out = new Float32Array(total);
    let at = 0;
    for (const n of names) {
      const b = await w.readFloat32(`${n}.bias`);
      out.set(b, at);
      at += b.length;
    }
    return bytesOf(out);
  });
}

/** The weights of Linear layers `names` stacked and transposed: [in, sum of outs]. */
function transposedWeight(s: Scope, w: TensorSource, names: string[]): string {
  const m = op.stackRows(names.map((n) => matrix(w, `${n}.weight`)));
  return s.tensor('weight', 'float32', [m.in, m.out], async () => {
    const rows = await m.read(); // [out, in]
    const t = new Float32Array(rows.length);
    for (let r = 0; r < m.out; r++) for (let k = 0; k < m.in; k++) t[k * m.out + r] = rows[r * m.in + k]!;
    return bytesOf(t);
  });
}

/**
 * Linear layers `names` sharing the input x, as one MatMul: x · [W_a; W_b; ..]^T + [b_a; b_b; ..].
 * [.., in] -> [.., sum of outs]
 */
function stackedLinear(s: Scope, w: TensorSource, x: string, names: string[]): string {
  const weight = op.stackRows(names.map((n) => matrix(w, `${n}.weight`)));
  return op.linear(s, x, weight, { format: 'fp32', bias: stackedBias(s, w, names) });
}

function splitLast(s: Scope, x: string, sizes: number[]): string[] {
  return s.ops('Split', [x, op.ints(s, sizes)], { attrs: { axis: -1 }, outputs: sizes.length });
}

function embeddings(s: Scope, w: TensorSource, c: BertConfig, ids: string): string {
  const word = op.gather(s.child('word'), tensor(s, w, bertNames.wordEmbeddings, 'word'), ids); // [B, L, H]
  // Token type is always 0: its first row is a constant [H].
  const typeRow = s.tensor('token_type_0', 'float32', [c.hiddenSize], async () =>
    bytesOf((await w.readFloat32(bertNames.tokenTypeEmbeddings)).subarray(0, c.hiddenSize)),
  );
  const length = s.op('Gather', [s.op('Shape', [ids]), op.ints(s, [1])], { attrs: { axis: 0 } }); // [1] = L
  const table = tensor(s, w, bertNames.positionEmbeddings, 'position');
  const positions = s.op('Slice', [table, op.ints(s, [0]), length, op.ints(s, [0])]); // [L, H]
  const sum = op.add(s, op.add(s, word, typeRow), positions);
  const norm = bertNames.embeddingsNorm;
  const [gamma, beta] = [
    tensor(s, w, `${norm}.weight`, 'ln_weight'),
    tensor(s, w, `${norm}.bias`, 'ln_bias'),
  ];
  return op.layerNorm(s, sum, gamma, beta, c.layerNormEps);
}

/** LayerNorm(x · W^T + b + residual) for the Linear `dense` and the LayerNorm `norm` (one contrib kernel). */
function denseAddNorm(
  s: Scope,
  w: TensorSource,
  c: BertConfig,
  x: string,
  residual: string,
  dense: string,
  norm: string,
) {
  const inputs = [
    op.linear(s, x, matrix(w, `${dense}.weight`), { format: 'fp32' }),
    residual,
    tensor(s, w, `${norm}.weight`, 'ln_weight'),
    tensor(s, w, `${norm}.bias`, 'ln_bias'),
    tensor(s, w, `${dense}.bias`, 'bias'),
  ];
  return s.op('SkipLayerNormalization', inputs, {
    domain: op.MS,
    attrs: { epsilon: { float: c.layerNormEps } },
  });
}

/** One post-norm BERT layer; with `clsOnly` the queries and everything after them cover the CLS row alone. */
function encoderLayer(
  s: Scope,
  w: TensorSource,
  c: BertConfig,
  p: string,
  x: string,
  mask: string,
  clsOnly: boolean,
): string {
  const H = c.hiddenSize;
  const [query, key, value] = ['query', 'key', 'value'].map((m) => `${p}.attention.self.${m}`) as [
    string,
    string,
    string,
  ];
  const attn = s.child('attn');
  const rows = clsOnly ? op.slice(attn, x, [0], [1], [1]) : x; // [B, Lq, H], Lq = 1 or L
  let context: string; // [B, Lq, H]
  if (clsOnly) {
    const q = stackedLinear(attn.child('q_proj'), w, rows, [query]);
    const kv = attn.child('kv_proj');
    const [k, v] = splitLast(kv, stackedLinear(kv, w, x, [key, value]), [H, H]) as [string, string];
    // softmax(q k^T / sqrt(d) + (1 - mask) * float32.min) v per head
    context = attn.op('MultiHeadAttention', [q, k, v, null, mask], {
      domain: op.MS,
      attrs: { num_heads: c.numAttentionHeads, mask_filter_value: { float: FLOAT32_MIN } },
    });
  } else {
    // The same attention with the q/k/v projection inside one contrib kernel.
    const qkv = attn.child('qkv_proj');
    const names = [query, key, value];
    context = attn.op('Attention', [x, transposedWeight(qkv, w, names), stackedBias(qkv, w, names), mask], {
      domain: op.MS,
      attrs: { num_heads: c.numAttentionHeads, mask_filter_value: { float: FLOAT32_MIN } },
    });
  }
  const o = attn.child('o_proj');
  const a = denseAddNorm(
    o,
    w,
    c,
    context,
    rows,
    `${p}.attention.output.dense`,
    `${p}.attention.output.LayerNorm`,
  );
  const up = s.child('mlp').child('up_proj');
  const hidden = up.op(
    'BiasGelu', // exact (erf) GELU of x + b: [B, Lq, intermediate]
    [
      op.linear(up, a, matrix(w, `${p}.intermediate.dense.weight`), { format: 'fp32' }),
      tensor(up, w, `${p}.intermediate.dense.bias`, 'bias'),
    ],
    { domain: op.MS },
  );
  return denseAddNorm(
    s.child('mlp').child('down_proj'),
    w,
    c,
    hidden,
    a,
    `${p}.output.dense`,
    `${p}.output.LayerNorm`,
  );
}

/** All 14 heads as one [H, 54] projection: [B, H] -> [B, 13, 4] and [B, 2]. */
function heads(s: Scope, w: TensorSource, cls: string): [string, string] {
  const names = Array.from({ length: CHEXBERT_HEADS }, (_, i) => bertNames.head(i));
  const all = stackedLinear(s, w, cls, names); // [B, 54]
  const [four, two] = splitLast(s, all, [(CHEXBERT_HEADS - 1) * CHEXBERT_CLASSES, NO_FINDING_CLASSES]);
  return [op.reshape(s, four!, [0, CHEXBERT_HEADS - 1, CHEXBERT_CLASSES]), two!];
}
