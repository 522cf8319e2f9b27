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
 * feed-forward for that row alone (keys and values still cover every position).
 */
import { inputError } from '../errors.js';
import { Graph, type Scope } from '../onnx/graph.js';
import {
  add,
  gather,
  ints,
  layerNorm,
  linear,
  type MatrixSource,
  MS,
  reshape,
  slice,
  stackRows,
} from '../onnx/ops.js';
import { bytesOf } from '../onnx/tensor.js';
import type { TensorSource } from '../weights/types.js';

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

/** Check every tensor the graph reads against the config, naming the first that does not fit. */
export function validateChexbertWeights(w: TensorSource, c: BertConfig): void {
  const H = c.hiddenSize;
  const expect = (name: string, shape: number[]) => {
    const info = w.info(name);
    if (info.shape.join(',') !== shape.join(','))
      throw inputError('bert.shape_mismatch', 'tensor shape does not fit the BERT config', {
        file: w.origin,
        field: name,
        expected: `[${shape}]`,
        found: `[${info.shape}]`,
      });
  };
  if (H % c.numAttentionHeads !== 0)
    throw inputError('bert.bad_config', 'hidden size is not a multiple of the head count', {
      field: 'num_attention_heads',
      found: `${H} / ${c.numAttentionHeads}`,
    });
  expect(bertNames.wordEmbeddings, [c.vocabSize, H]);
  expect(bertNames.positionEmbeddings, [c.maxPositionEmbeddings, H]);
  expect(bertNames.tokenTypeEmbeddings, [c.typeVocabSize, H]);
  const norm = (p: string) => {
    expect(`${p}.weight`, [H]);
    expect(`${p}.bias`, [H]);
  };
  const dense = (p: string, out: number, inp: number) => {
    expect(`${p}.weight`, [out, inp]);
    expect(`${p}.bias`, [out]);
  };
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
  if (w.has(bertNames.layer(c.numHiddenLayers) + '.attention.self.query.weight'))
    throw inputError('bert.shape_mismatch', 'the checkpoint has more encoder layers than the config', {
      file: w.origin,
      field: 'num_hidden_layers',
      expected: String(c.numHiddenLayers),
    });
  for (let i = 0; i < CHEXBERT_HEADS; i++)
    dense(bertNames.head(i), i === CHEXBERT_HEADS - 1 ? NO_FINDING_CLASSES : CHEXBERT_CLASSES, H);
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
    const clsOnly = i === c.numHiddenLayers - 1;
    x = encoderLayer(root.child(`layers.${i}`), w, c, bertNames.layer(i), x, mask, clsOnly);
  }
  const cls = reshape(root.child('cls'), x, [0, c.hiddenSize]); // [B, 1, H] -> [B, H]
  const [logits, noFinding] = heads(root.child('heads'), w, cls);
  g.output(cls, CHEXBERT_IO.cls, 'float32', ['batch', c.hiddenSize]);
  g.output(logits, CHEXBERT_IO.logits, 'float32', ['batch', CHEXBERT_HEADS - 1, CHEXBERT_CLASSES]);
  g.output(noFinding, CHEXBERT_IO.noFindingLogits, 'float32', ['batch', NO_FINDING_CLASSES]);
  return g;
}

function tensor(s: Scope, w: TensorSource, name: string, local: string): string {
  const info = w.info(name);
  return s.tensor(local, 'float32', info.shape, async () => bytesOf(await w.readFloat32(name)));
}

function matrix(w: TensorSource, name: string): MatrixSource {
  const [out, inp] = w.info(name).shape as [number, number];
  return { out, in: inp, read: () => w.readFloat32(name) };
}

/** x [.., in] · W^T for a checkpoint Linear weight [out, in]. */
function project(s: Scope, x: string, m: MatrixSource): string {
  return linear(s, x, m, { format: 'fp32' });
}

/** Concatenated biases, as one initializer. */
function stackedBias(s: Scope, w: TensorSource, names: string[]): string {
  const sizes = names.map((n) => w.info(n).shape[0]!);
  const total = sizes.reduce((a, b) => a + b, 0);
  return s.tensor('bias', 'float32', [total], async () => {
    const out = new Float32Array(total);
    let at = 0;
    for (const n of names) {
      const b = await w.readFloat32(n);
      out.set(b, at);
      at += b.length;
    }
    return bytesOf(out);
  });
}

function embeddings(s: Scope, w: TensorSource, c: BertConfig, ids: string): string {
  const word = gather(s.child('word'), tensor(s, w, bertNames.wordEmbeddings, 'word'), ids); // [B, L, H]
  // Token type is always 0: its first row is a constant [H].
  const typeRow = s.tensor('token_type_0', 'float32', [c.hiddenSize], async () =>
    bytesOf((await w.readFloat32(bertNames.tokenTypeEmbeddings)).subarray(0, c.hiddenSize)),
  );
  const length = s.op('Gather', [s.op('Shape', [ids]), ints(s, [1])], { attrs: { axis: 0 } }); // [1] = L
  const positions = s.op('Slice', [
    tensor(s, w, bertNames.positionEmbeddings, 'position'),
    ints(s, [0]),
    length,
    ints(s, [0]),
  ]); // [L, H]
  const sum = add(s, add(s, word, typeRow), positions);
  const p = bertNames.embeddingsNorm;
  return layerNorm(
    s,
    sum,
    tensor(s, w, `${p}.weight`, 'ln_weight'),
    tensor(s, w, `${p}.bias`, 'ln_bias'),
    c.layerNormEps,
  );
}

/** LayerNorm(x + skip + bias) in one contrib kernel. */
function skipLayerNorm(
  s: Scope,
  w: TensorSource,
  c: BertConfig,
  x: string,
  skip: string,
  bias: string,
  norm: string,
): string {
  return s.op(
    'SkipLayerNormalization',
    [
      x,
      skip,
      tensor(s, w, `${norm}.weight`, 'ln_weight'),
      tensor(s, w, `${norm}.bias`, 'ln_bias'),
      tensor(s, w, bias, 'bias'),
    ],
    { domain: MS, attrs: { epsilon: { float: c.layerNormEps } } },
  );
}

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
  const self = `${p}.attention.self`;
  const attn = s.child('attn');
  let q: string;
  let k: string;
  let v: string;
  let residual = x;
  if (clsOnly) {
    residual = slice(attn, x, [0], [1], [1]); // [B, 1, H]
    q = add(
      attn.child('q_proj'),
      project(attn.child('q_proj'), residual, matrix(w, `${self}.query.weight`)),
      tensor(attn.child('q_proj'), w, `${self}.query.bias`, 'bias'),
    );
    const kv = attn.child('kv_proj');
    const packed = add(
      kv,
      project(kv, x, stackRows([matrix(w, `${self}.key.weight`), matrix(w, `${self}.value.weight`)])),
      stackedBias(kv, w, [`${self}.key.bias`, `${self}.value.bias`]),
    );
    [k, v] = kv.ops('Split', [packed, ints(kv, [H, H])], { attrs: { axis: -1 }, outputs: 2 }) as [
      string,
      string,
    ];
  } else {
    const qkv = attn.child('qkv_proj');
    const names = ['query', 'key', 'value'].map((m) => `${self}.${m}`);
    const packed = add(
      qkv,
      project(qkv, x, stackRows(names.map((n) => matrix(w, `${n}.weight`)))),
      stackedBias(
        qkv,
        w,
        names.map((n) => `${n}.bias`),
      ),
    );
    [q, k, v] = qkv.ops('Split', [packed, ints(qkv, [H, H, H])], { attrs: { axis: -1 }, outputs: 3 }) as [
      string,
      string,
      string,
    ];
  }
  const context = attn.op('MultiHeadAttention', [q, k, v, null, mask], {
    domain: MS,
    attrs: { num_heads: c.numAttentionHeads, mask_filter_value: { float: FLOAT32_MIN } },
  });
  const out = attn.child('o_proj');
  const attended = skipLayerNorm(
    out,
    w,
    c,
    project(out, context, matrix(w, `${p}.attention.output.dense.weight`)),
    residual,
    `${p}.attention.output.dense.bias`,
    `${p}.attention.output.LayerNorm`,
  );
  const mlp = s.child('mlp');
  const up = mlp.child('up_proj');
  const hidden = up.op(
    'BiasGelu',
    [
      project(up, attended, matrix(w, `${p}.intermediate.dense.weight`)),
      tensor(up, w, `${p}.intermediate.dense.bias`, 'bias'),
    ],
    { domain: MS },
  );
  const down = mlp.child('down_proj');
  return skipLayerNorm(
    down,
    w,
    c,
    project(down, hidden, matrix(w, `${p}.output.dense.weight`)),
    attended,
    `${p}.output.dense.bias`,
    `${p}.output.LayerNorm`,
  );
}

/** All 14 heads as one [H, 54] projection, split into [B, 13, 4] and [B, 2]. */
function heads(s: Scope, w: TensorSource, cls: string): [string, string] {
  const names = Array.from({ length: CHEXBERT_HEADS }, (_, i) => bertNames.head(i));
  const four = (CHEXBERT_HEADS - 1) * CHEXBERT_CLASSES;
  const all = add(
    s,
    project(s, cls, stackRows(names.map((n) => matrix(w, `${n}.weight`)))),
    stackedBias(
      s,
      w,
      names.map((n) => `${n}.bias`),
    ),
  ); // [B, 54]
  const [fourClass, two] = s.ops('Split', [all, ints(s, [four, NO_FINDING_CLASSES])], {
    attrs: { axis: -1 },
    outputs: 2,
  }) as [string, string];
  return [reshape(s, fourClass, [0, CHEXBERT_HEADS - 1, CHEXBERT_CLASSES]), two];
}
