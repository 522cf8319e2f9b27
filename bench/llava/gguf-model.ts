/**
 * The bench's decoder as a llama.cpp GGUF (Q4_0 or Q8_0), with the same shapes and the same random values as the
 * ONNX decoder (same tensor names, same seeds), written one tensor at a time. The vocabulary is SentencePiece in
 * form (<unk>, <s>, </s>, the 256 byte pieces, then filler pieces): the bench feeds token ids, never text.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import {
  GGML_TYPE,
  type GgufTensorInfo,
  type GgufValue,
  gguf,
  ggufHeader,
  ggufPadded,
} from '../../src/judge/gguf-writer.js';
import type { LlamaConfig } from '../../src/weights/index.js';
import { type GgmlQuant, quantizedBytes, quantizeGgml } from './ggml-quant.js';
import { llamaShapes, randomTensor } from './shapes.js';

const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, byte: 6 } as const;

interface Planned {
  info: GgufTensorInfo;
  /** The ONNX-side tensor whose random values it holds. */
  source: string;
  quant: GgmlQuant | null;
}

/**
 * GGUF names for the Hugging Face ones. The output head of the Q4_0 model is Q8_0, as the int4 ONNX decoder keeps
 * lm_head at 8 bits (llama.cpp's own Q4_0 recipe uses 6 bits there).
 */
function plan(c: LlamaConfig, quant: GgmlQuant): Planned[] {
  const shapes = llamaShapes(c);
  const entry = (name: string, source: string, q: GgmlQuant | null): Planned => {
    const shape = shapes.get(source)!;
    const count = shape.reduce((a, b) => a * b, 1);
    return {
      info: {
        name,
        dims: [...shape].reverse(),
        type: q ? GGML_TYPE[q] : GGML_TYPE.F32,
        byteLength: q ? quantizedBytes(q, count) : count * 4,
      },
      source,
      quant: q,
    };
  };
  const list = [entry('token_embd.weight', 'model.embed_tokens.weight', quant)];
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const hf = `model.layers.${i}.`;
    const blk = `blk.${i}.`;
    list.push(
      entry(`${blk}attn_norm.weight`, `${hf}input_layernorm.weight`, null),
      entry(`${blk}attn_q.weight`, `${hf}self_attn.q_proj.weight`, quant),
      entry(`${blk}attn_k.weight`, `${hf}self_attn.k_proj.weight`, quant),
      entry(`${blk}attn_v.weight`, `${hf}self_attn.v_proj.weight`, quant),
      entry(`${blk}attn_output.weight`, `${hf}self_attn.o_proj.weight`, quant),
      entry(`${blk}ffn_norm.weight`, `${hf}post_attention_layernorm.weight`, null),
      entry(`${blk}ffn_gate.weight`, `${hf}mlp.gate_proj.weight`, quant),
      entry(`${blk}ffn_up.weight`, `${hf}mlp.up_proj.weight`, quant),
      entry(`${blk}ffn_down.weight`, `${hf}mlp.down_proj.weight`, quant),
    );
  }
  list.push(
    entry('output_norm.weight', 'model.norm.weight', null),
    entry('output.weight', 'lm_head.weight', 'Q8_0'),
  );
  return list;
}

function metadata(c: LlamaConfig, quant: GgmlQuant): Record<string, GgufValue> {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types: number[] = [TOKEN_TYPE.unknown, TOKEN_TYPE.control, TOKEN_TYPE.control];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TOKEN_TYPE.byte);
  }
  while (tokens.length < c.vocabSize) {
    tokens.push(`\u2581t${tokens.length}`);
    types.push(TOKEN_TYPE.normal);
  }
  return {
    'general.architecture': gguf.str('llama'),
    'general.name': gguf.str(`cxr-bench-random-llama-${quant}`),
    'general.file_type': gguf.u32(quant === 'Q4_0' ? 2 : 7), // LLAMA_FTYPE_MOSTLY_Q4_0 / _Q8_0
    'llama.context_length': gguf.u32(c.maxPositionEmbeddings),
    'llama.embedding_length': gguf.u32(c.hiddenSize),
    'llama.block_count': gguf.u32(c.numHiddenLayers),
    'llama.feed_forward_length': gguf.u32(c.intermediateSize),
    'llama.attention.head_count': gguf.u32(c.numAttentionHeads),
    'llama.attention.head_count_kv': gguf.u32(c.numKeyValueHeads),
    'llama.rope.dimension_count': gguf.u32(c.hiddenSize / c.numAttentionHeads),
    'llama.rope.freq_base': gguf.f32(c.ropeTheta),
    'llama.attention.layer_norm_rms_epsilon': gguf.f32(c.rmsNormEps),
    'tokenizer.ggml.model': gguf.str('llama'),
    'tokenizer.ggml.tokens': gguf.strings(tokens),
    'tokenizer.ggml.scores': gguf.f32s(tokens.map((_, i) => -i)),
    'tokenizer.ggml.token_type': gguf.i32s(types),
    'tokenizer.ggml.unknown_token_id': gguf.u32(0),
    'tokenizer.ggml.bos_token_id': gguf.u32(c.bosTokenId),
    'tokenizer.ggml.eos_token_id': gguf.u32(c.eosTokenId),
    'tokenizer.ggml.add_bos_token': gguf.bool(false),
  };
}

/** Write the decoder at config `c` as a `quant` GGUF to `path`; returns its size in bytes. */
export function writeDecoderGguf(path: string, c: LlamaConfig, quant: GgmlQuant): number {
  const tensors = plan(c, quant);
  const header = ggufHeader(
    metadata(c, quant),
    tensors.map((t) => t.info),
  );
  const fd = openSync(path, 'w');
  let size = 0;
  const write = (bytes: Uint8Array) => {
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
    size += bytes.length;
  };
  try {
    write(header);
    for (const t of tensors) {
      const values = randomTensor(`language/${t.source}`, [...t.info.dims].reverse());
      const bytes = t.quant
        ? quantizeGgml(t.quant, values)
        : new Uint8Array(values.buffer, 0, values.byteLength);
      write(bytes);
      write(new Uint8Array(ggufPadded(bytes.length) - bytes.length));
    }
  } finally {
    closeSync(fd);
  }
  return size;
}
