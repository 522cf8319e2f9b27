/**
 * `npm run bench -- decoder [--layers 2] [--context 1430] [--dtype int4] [--accuracy 4] [--threads 2] [--steps 10]`
 *
 * Decode speed of the LLaMA decoder graph (models/llama.ts) at the Vicuna-7B layer shape (hidden 4096, 32 heads,
 * FFN 11008, vocab 32000) with --layers layers of random weights, distinct per tensor, after a prefill of --context
 * tokens. Prints ms per token (best and median of --steps) and the kernel-time split of the decode steps from an
 * ONNX Runtime profile, so the 32-layer cost can be estimated as lm_head + 32 x one layer (run --layers 1 and 2).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { type GraphSpec, OrtCausalLM } from '../src/llava/index.js';
import { type DecoderDtype, decoderGraph, embeddingGraph } from '../src/models/index.js';
import { type AccuracyLevel, Graph } from '../src/onnx/index.js';
import type { LlamaConfig, TensorInfo, TensorSource } from '../src/weights/index.js';
import { LLAMA_7B } from './llava/shapes.js';

/** Uniform weights in [-WEIGHT_RANGE, WEIGHT_RANGE] (LLaMA-like magnitudes); norms are 1. */
const WEIGHT_RANGE = 0.02;
const FIRST_TOKEN = 100;

/** Distinct pseudo-random values per tensor (identical initialisers would run unrealistically fast). */
function randomSource(cfg: LlamaConfig): TensorSource {
  const shapes = new Map<string, number[]>([
    ['model.embed_tokens.weight', [cfg.vocabSize, cfg.hiddenSize]],
    ['lm_head.weight', [cfg.vocabSize, cfg.hiddenSize]],
    ['model.norm.weight', [cfg.hiddenSize]],
  ]);
  const H = cfg.hiddenSize;
  for (let i = 0; i < cfg.numHiddenLayers; i++) {
    const p = `model.layers.${i}.`;
    for (const n of ['q', 'k', 'v', 'o']) shapes.set(`${p}self_attn.${n}_proj.weight`, [H, H]);
    shapes.set(`${p}mlp.gate_proj.weight`, [cfg.intermediateSize, H]);
    shapes.set(`${p}mlp.up_proj.weight`, [cfg.intermediateSize, H]);
    shapes.set(`${p}mlp.down_proj.weight`, [H, cfg.intermediateSize]);
    shapes.set(`${p}input_layernorm.weight`, [H]);
    shapes.set(`${p}post_attention_layernorm.weight`, [H]);
  }
  const names = [...shapes.keys()];
  const info = (name: string): TensorInfo => ({ name, dtype: 'F32', shape: shapes.get(name)! });
  return {
    origin: 'random',
    list: () => names.map(info),
    has: (name) => shapes.has(name),
    info,
    async readFloat32(name) {
      const shape = shapes.get(name)!;
      const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
      if (shape.length === 1) return out.fill(1);
      let s = (names.indexOf(name) + 1) * 2654435761;
      for (let i = 0; i < out.length; i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        out[i] = (s / 2 ** 32 - 0.5) * 2 * WEIGHT_RANGE;
      }
      return out;
    },
    readBytes: () => Promise.reject(new Error('not used')),
    close: async () => {},
  };
}

export async function main(argv: string[]): Promise<void> {
  const { values: o } = parseArgs({
    args: argv,
    options: {
      layers: { type: 'string', default: '2' },
      context: { type: 'string', default: '1430' },
      dtype: { type: 'string', default: 'int4' },
      accuracy: { type: 'string', default: '4' },
      threads: { type: 'string', default: '2' },
      steps: { type: 'string', default: '10' },
    },
  });
  const cfg = { ...LLAMA_7B, numHiddenLayers: Number(o.layers) };
  const dtype = o.dtype as DecoderDtype;
  const dir = mkdtempSync(join(tmpdir(), 'cxr-bench-decoder-'));
  try {
    const source = randomSource(cfg);
    let t = performance.now();
    const decoder = new Graph('decoder');
    decoderGraph(decoder, cfg, source, { dtype, accuracyLevel: Number(o.accuracy) as AccuracyLevel });
    const embed = new Graph('embed');
    embeddingGraph(embed, cfg, source, dtype);
    await decoder.save(dir, 'decoder');
    await embed.save(dir, 'embed');
    console.log(`build + quantise + save: ${((performance.now() - t) / 1000).toFixed(1)} s`);

    const opts = {
      graphOptimizationLevel: 'all',
      interOpNumThreads: 1,
      intraOpNumThreads: Number(o.threads),
    } as const;
    const profiled = { ...opts, enableProfiling: true, profileFilePrefix: join(dir, 'profile') };
    const spec = {
      hidden: cfg.hiddenSize,
      layers: cfg.numHiddenLayers,
      heads: 32,
      headDim: 128,
      vocabSize: 32000,
    };
    const lm = new OrtCausalLM(
      await ort.InferenceSession.create(join(dir, 'embed.onnx'), opts),
      await ort.InferenceSession.create(join(dir, 'decoder.onnx'), profiled),
      { ...spec, maxContext: cfg.maxPositionEmbeddings } as GraphSpec,
    );
    const prompt = Array.from({ length: Number(o.context) }, (_, i) => FIRST_TOKEN + (i % 1000));
    t = performance.now();
    const { state } = await lm.prefill(prompt, null);
    const prefill = (performance.now() - t) / 1000;
    console.log(
      `prefill ${prompt.length} tokens: ${prefill.toFixed(2)} s (${(prompt.length / prefill).toFixed(1)} tok/s)`,
    );
    const times: number[] = [];
    for (let i = 0; i < Number(o.steps); i++) {
      t = performance.now();
      await lm.step(state, FIRST_TOKEN + i);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    console.log(
      `decode at context ${state.length}, ${cfg.numHiddenLayers} layer(s) + lm_head, ${dtype}: ` +
        `best ${times[0]!.toFixed(1)} ms, median ${times[times.length >> 1]!.toFixed(1)} ms per token`,
    );
    lm.endProfiling();
    const events = readProfile(dir);
    console.log('prefill kernel time:');
    printKernelSplit(events, 0, 1);
    console.log('decode kernel time per token:');
    printKernelSplit(events, 1, Number(o.steps));
    await lm.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type ProfileEvent = { cat: string; name: string; ts: number; args?: { op_name?: string }; dur: number };

function readProfile(dir: string): ProfileEvent[] {
  const file = readdirSync(dir).find((f) => f.startsWith('profile') && f.endsWith('.json'));
  return file ? (JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProfileEvent[]) : [];
}

/** Kernel time per op type over `count` decoder runs starting at run `first` (run 0 is the prefill). */
function printKernelSplit(events: ProfileEvent[], first: number, count: number): void {
  const runs = events.filter((e) => e.name === 'model_run');
  const from = runs[first]?.ts ?? Number.POSITIVE_INFINITY;
  const to = runs[first + count]?.ts ?? Number.POSITIVE_INFINITY;
  const byOp = new Map<string, number>();
  for (const e of events) {
    if (e.cat !== 'Node' || e.ts < from || e.ts >= to || !e.name.endsWith('_kernel_time')) continue;
    const op = e.args?.op_name ?? '?';
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
  }
  const total = [...byOp.values()].reduce((a, b) => a + b, 0);
  for (const [op, us] of [...byOp].sort((a, b) => b[1] - a[1]).slice(0, 8)) {
    const ms = (us / count / 1000).toFixed(2).padStart(9);
    console.log(`  ${op.padEnd(34)} ${ms} ms ${((100 * us) / total).toFixed(1)}%`);
  }
}
