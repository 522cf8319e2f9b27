/**
 * A tiny random-weight LLaMA in GGUF, written by the test suite itself, so the node-llama-cpp judge path runs a
 * real model with no download. Its SentencePiece-style vocabulary is real in form: <unk>/<s>/</s>, the 256 byte
 * fallback pieces, printable characters with and without the word-boundary mark, and some words and JSON pieces
 * with scores, so llama.cpp's tokenizer, detokenizer and grammar sampler all do real work.
 */
import { writeFileSync } from 'node:fs';
import { Mt19937 } from '../../src/eval/stats/index.js';
import { type GgufTensor, gguf, writeGguf } from '../../src/judge/gguf-writer.js';

const WORD_MARK = '\u2581'; // SentencePiece's "▁"
const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, byte: 6 } as const;

export interface TinyLlamaShape {
  embd: number;
  layers: number;
  heads: number;
  ff: number;
  contextLength: number;
  seed: number;
}

export const TINY_SHAPE: TinyLlamaShape = {
  embd: 64,
  layers: 2,
  heads: 4,
  ff: 128,
  contextLength: 8192,
  seed: 7,
};

const WORDS = [
  'the',
  'lungs',
  'are',
  'clear',
  'no',
  'heart',
  'size',
  'normal',
  'pleural',
  'effusion',
  'pneumothorax',
  'error',
  'errors',
  'finding',
  'significant',
  'insignificant',
  'reference',
  'candidate',
  'report',
  'and',
  'of',
];
const JSON_PIECES = [
  '{',
  '}',
  '"',
  '":',
  '": ',
  ', "',
  '{"',
  '},',
  '"significant"',
  '"insignificant"',
  '"A"',
  '"F"',
];

interface Vocab {
  tokens: string[];
  scores: number[];
  types: number[];
}

function buildVocab(): Vocab {
  const v: Vocab = { tokens: [], scores: [], types: [] };
  const add = (t: string, score: number, type: number) => {
    if (v.tokens.includes(t)) return;
    v.tokens.push(t);
    v.scores.push(score);
    v.types.push(type);
  };
  add('<unk>', 0, TOKEN_TYPE.unknown);
  add('<s>', 0, TOKEN_TYPE.control);
  add('</s>', 0, TOKEN_TYPE.control);
  for (let b = 0; b < 256; b++)
    add(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, 0, TOKEN_TYPE.byte);
  // SentencePiece merges by score: longer pieces score higher so words win over their letters.
  add(WORD_MARK, -1000, TOKEN_TYPE.normal);
  for (let c = 33; c < 127; c++) {
    add(String.fromCharCode(c), -1000, TOKEN_TYPE.normal);
    add(WORD_MARK + String.fromCharCode(c), -999, TOKEN_TYPE.normal);
  }
  for (const w of WORDS) {
    add(w, -100 + w.length, TOKEN_TYPE.normal);
    add(WORD_MARK + w, -99 + w.length, TOKEN_TYPE.normal);
  }
  for (const p of JSON_PIECES) add(p, -100 + p.length, TOKEN_TYPE.normal);
  return v;
}

export function tinyLlamaGguf(shape: TinyLlamaShape = TINY_SHAPE): Buffer {
  const vocab = buildVocab();
  const nVocab = vocab.tokens.length;
  const rng = new Mt19937(shape.seed);
  const rand = () => rng.nextUint32() / 2 ** 32;
  // Distinct random values for every tensor; 0.1 keeps activations in a sane range for a 64-wide model.
  const random = (name: string, dims: number[]): GgufTensor => {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (rand() * 2 - 1) * 0.1;
    return { name, dims, data };
  };
  const ones = (name: string, n: number): GgufTensor => ({
    name,
    dims: [n],
    data: new Float32Array(n).fill(1),
  });
  const { embd, ff } = shape;
  const tensors: GgufTensor[] = [random('token_embd.weight', [embd, nVocab])];
  for (let l = 0; l < shape.layers; l++) {
    const p = `blk.${l}`;
    tensors.push(
      ones(`${p}.attn_norm.weight`, embd),
      random(`${p}.attn_q.weight`, [embd, embd]),
      random(`${p}.attn_k.weight`, [embd, embd]),
      random(`${p}.attn_v.weight`, [embd, embd]),
      random(`${p}.attn_output.weight`, [embd, embd]),
      ones(`${p}.ffn_norm.weight`, embd),
      random(`${p}.ffn_gate.weight`, [embd, ff]),
      random(`${p}.ffn_up.weight`, [embd, ff]),
      random(`${p}.ffn_down.weight`, [ff, embd]),
    );
  }
  tensors.push(ones('output_norm.weight', embd), random('output.weight', [embd, nVocab]));
  const metadata = {
    'general.architecture': gguf.str('llama'),
    'general.name': gguf.str('cxr-tiny-random-llama'),
    'llama.context_length': gguf.u32(shape.contextLength),
    'llama.embedding_length': gguf.u32(embd),
    'llama.block_count': gguf.u32(shape.layers),
    'llama.feed_forward_length': gguf.u32(ff),
    'llama.attention.head_count': gguf.u32(shape.heads),
    'llama.attention.head_count_kv': gguf.u32(shape.heads),
    'llama.rope.dimension_count': gguf.u32(embd / shape.heads),
    'llama.attention.layer_norm_rms_epsilon': gguf.f32(1e-5),
    'tokenizer.ggml.model': gguf.str('llama'),
    'tokenizer.ggml.tokens': gguf.strings(vocab.tokens),
    'tokenizer.ggml.scores': gguf.f32s(vocab.scores),
    'tokenizer.ggml.token_type': gguf.i32s(vocab.types),
    'tokenizer.ggml.unknown_token_id': gguf.u32(0),
    'tokenizer.ggml.bos_token_id': gguf.u32(1),
    'tokenizer.ggml.eos_token_id': gguf.u32(2),
    'tokenizer.ggml.add_bos_token': gguf.bool(true),
  };
  return writeGguf(metadata, tensors);
}

export function writeTinyLlama(path: string, shape: TinyLlamaShape = TINY_SHAPE): string {
  writeFileSync(path, tinyLlamaGguf(shape));
  return path;
}
