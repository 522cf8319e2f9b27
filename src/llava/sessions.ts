/**
 * ONNX Runtime sessions behind the VisionEncoder and CausalLM contracts (types.ts).
 *
 * Graphs: vision (ViT + projector), embed (token rows) and decoder (models/llama.ts). They are built from the
 * weights in memory (`createSessions`) or written to a folder and loaded back (`saveGraphs` / `loadSessions`).
 * The KV cache and its layout: kv-cache.ts.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { inputError } from '../errors.js';
import {
  DECODER_IO,
  type DecoderDtype,
  decoderGraph,
  embeddingGraph,
  headDim,
  type KvKeys,
  projectorGraph,
  type VisionDtype,
  vitGraph,
  vitPatches,
} from '../models/index.js';
import {
  type AccuracyLevel,
  DEFAULT_ACCURACY_LEVEL,
  DEFAULT_INT4_BLOCK_SIZE,
  Graph,
  type Int4BlockSize,
  PROTO_LIMIT_BYTES,
} from '../onnx/index.js';
import type { LlavaRadWeights } from '../weights/index.js';
import { KV_GROWTH, KvCaches, KvState, planeDims, planeInput, planeOutput } from './kv-cache.js';
import { type CausalLM, type DecoderState, IMAGE_TOKEN_ID, type VisionEncoder } from './types.js';

export interface GraphOptions {
  /** Vision tower and projector weights (default fp32). */
  visionDtype?: VisionDtype;
  /** Decoder weights (default fp32). */
  decoderDtype?: DecoderDtype;
  /** MatMulNBits compute precision for int8/int4 (default DEFAULT_ACCURACY_LEVEL: int8 activations). */
  accuracyLevel?: AccuracyLevel;
  /** Block length of int4 decoder weights (default DEFAULT_INT4_BLOCK_SIZE). */
  int4BlockSize?: Int4BlockSize;
  /** Cached key storage (default: int8 for int8/int4 decoders, float32 for fp32/fp16 ones). */
  kvKeys?: KvKeys;
}

export interface SessionOptions {
  /** Intra-op threads (default: ONNX Runtime's choice, one per physical core). */
  threads?: number;
  /** Profile the decoder session: ONNX Runtime writes `<prefix>_<time>.json` on `lm.endProfiling()`. */
  profileFilePrefix?: string;
}

/** What a saved folder holds besides the .onnx files (`graphs.json`). */
export interface GraphSpec {
  format: 'cxr-llava-graphs';
  version: 1;
  visionDtype: VisionDtype;
  decoderDtype: DecoderDtype;
  /** MatMulNBits compute precision the int8/int4 decoder was built with. */
  accuracyLevel: AccuracyLevel;
  /** Block length of the int4 decoder weights (int4 bundles only; older ones used 32). */
  int4BlockSize?: number;
  /** Cached key storage (absent: float32, as in bundles written before int8 keys). */
  kvKeys?: KvKeys;
  imageSize: number;
  imageTokens: number;
  hidden: number;
  layers: number;
  heads: number;
  headDim: number;
  vocabSize: number;
  maxContext: number;
  files: { vision: string; embed: string; decoder: string };
}

export const GRAPH_SPEC_FILE = 'graphs.json';
const GRAPH_NAMES = { vision: 'vision', embed: 'embed', decoder: 'decoder' } as const;
/** Decoder runs remembered in `OrtCausalLM.runs`. */
const RUN_LOG = 64;
/**
 * Prompt positions per decoder run in a prefill. A run's attention temporaries are [heads, chunk, cache] and its
 * returned keys/values chunk x 1 MB at 7B (garbage once appended), so a 1,430-token prompt in one run peaks about
 * 1 GB above the cache; 128-row chunks keep that near 200 MB at the same speed (MatMulNBits still reads each weight
 * once per 128 rows). A chunked prefill equals the one-run prefill: test/llava/prefill-chunks.test.ts.
 */
export const PREFILL_CHUNK = 128;
export interface LlavaGraphs {
  vision: Graph;
  embed: Graph;
  decoder: Graph;
  spec: GraphSpec;
}

export function buildGraphs(weights: LlavaRadWeights, opts: GraphOptions = {}): LlavaGraphs {
  const { vision: vc, projector: pc, llama: lc } = weights.config;
  const visionDtype = opts.visionDtype ?? 'fp32';
  const decoderDtype = opts.decoderDtype ?? 'fp32';
  const accuracyLevel = opts.accuracyLevel ?? DEFAULT_ACCURACY_LEVEL;

  const vision = new Graph(GRAPH_NAMES.vision);
  const pixels = vision.input('pixel_values', 'float32', [1, 3, vc.imageSize, vc.imageSize]);
  const features = vitGraph(vision, pixels, vc, weights.vision, visionDtype);
  const rows = projectorGraph(vision, features, pc, weights.projector, visionDtype);
  const tokens = vitPatches(vc) + (vc.selectFeature === 'cls_patch' ? 1 : 0);
  vision.output(rows, 'image_rows', 'float32', [1, tokens, pc.hiddenSize]);

  const embed = new Graph(GRAPH_NAMES.embed);
  embeddingGraph(embed, lc, weights.language, decoderDtype);
  const decoder = new Graph(GRAPH_NAMES.decoder);
  const int4BlockSize = decoderDtype === 'int4' ? (opts.int4BlockSize ?? DEFAULT_INT4_BLOCK_SIZE) : undefined;
  const kvKeys = opts.kvKeys ?? defaultKvKeys(decoderDtype);
  decoderGraph(decoder, lc, weights.language, { dtype: decoderDtype, accuracyLevel, int4BlockSize, kvKeys });

  const spec: GraphSpec = {
    format: 'cxr-llava-graphs',
    version: 1,
    visionDtype,
    decoderDtype,
    accuracyLevel,
    ...(int4BlockSize ? { int4BlockSize } : {}),
    kvKeys,
    imageSize: vc.imageSize,
    imageTokens: tokens,
    hidden: lc.hiddenSize,
    layers: lc.numHiddenLayers,
    heads: lc.numAttentionHeads,
    headDim: headDim(lc),
    vocabSize: lc.vocabSize,
    maxContext: lc.maxPositionEmbeddings,
    files: { vision: 'vision.onnx', embed: 'embed.onnx', decoder: 'decoder.onnx' },
  };
  return { vision, embed, decoder, spec };
}

/**
 * Quantised decoders keep 8-bit keys: a decode step then reads a quarter of the key bytes (at 7B the float keys are
 * the largest read after the weights); fp32 and fp16 decoders keep float32 keys and match the reference closely.
 */
export function defaultKvKeys(dtype: DecoderDtype): KvKeys {
  return dtype === 'int8' || dtype === 'int4' ? 'int8' : 'float32';
}

/**
 * Build the graphs from `weights` and write them to `dir` (model files, external data, graphs.json), one tensor
 * at a time. Returns the spec and the names of the files written.
 */
export async function saveGraphs(
  weights: LlavaRadWeights,
  dir: string,
  opts: GraphOptions = {},
): Promise<{ spec: GraphSpec; files: string[] }> {
  const graphs = buildGraphs(weights, opts);
  const files: string[] = [];
  for (const name of Object.values(GRAPH_NAMES)) files.push(...(await graphs[name].save(dir, name)));
  writeFileSync(join(dir, GRAPH_SPEC_FILE), `${JSON.stringify(graphs.spec, null, 2)}\n`);
  files.push(GRAPH_SPEC_FILE);
  return { spec: graphs.spec, files };
}

export interface LlavaSessions {
  vision: VisionEncoder;
  lm: OrtCausalLM;
  spec: GraphSpec;
}

/** Load graphs written by `saveGraphs`. */
export async function loadSessions(dir: string, opts: SessionOptions = {}): Promise<LlavaSessions> {
  const spec = readSpec(dir);
  const open = (file: string, profile = false) =>
    ort.InferenceSession.create(join(dir, file), sessionOptions(opts, profile));
  return sessionsFrom(
    spec,
    await open(spec.files.vision),
    await open(spec.files.embed),
    await open(spec.files.decoder, true),
  );
}

/** Only the language model of a folder written by `saveGraphs` (embed + decoder; text-only use, benches). */
export async function loadCausalLM(dir: string, opts: SessionOptions = {}): Promise<OrtCausalLM> {
  const spec = readSpec(dir);
  const open = (file: string, profile = false) =>
    ort.InferenceSession.create(join(dir, file), sessionOptions(opts, profile));
  return new OrtCausalLM(await open(spec.files.embed), await open(spec.files.decoder, true), spec);
}

/** graphs.json of `dir`, checked, with every graph file it names present. */
function readSpec(dir: string): GraphSpec {
  const specPath = join(dir, GRAPH_SPEC_FILE);
  let spec: GraphSpec;
  try {
    spec = JSON.parse(readFileSync(specPath, 'utf8')) as GraphSpec;
  } catch (cause) {
    throw inputError('llava.graphs_missing', 'cannot read the graph spec', { file: specPath, cause });
  }
  if (spec.format !== 'cxr-llava-graphs' || spec.version !== 1) {
    throw inputError('llava.graphs_format', 'not a cxr graph folder', {
      file: specPath,
      field: 'format',
      expected: 'cxr-llava-graphs v1',
      found: `${spec.format} v${spec.version}`,
    });
  }
  for (const file of Object.values(spec.files ?? {})) {
    const path = join(dir, file);
    if (!existsSync(path))
      throw inputError('llava.graphs_missing', 'a graph file named in the spec is missing', { file: path });
  }
  return spec;
}

/** Build the graphs and open sessions on them without a bundle folder (a temporary one past 2 GiB of weights). */
export async function createSessions(
  weights: LlavaRadWeights,
  opts: GraphOptions & SessionOptions = {},
): Promise<LlavaSessions> {
  const graphs = buildGraphs(weights, opts);
  const total = graphs.vision.weightBytes() + graphs.embed.weightBytes() + graphs.decoder.weightBytes();
  if (total > PROTO_LIMIT_BYTES) {
    const dir = await mkdtemp(join(tmpdir(), 'cxr-graphs-'));
    try {
      await saveGraphs(weights, dir, opts);
      return await loadSessions(dir, opts);
    } finally {
      await rm(dir, { recursive: true, force: true }); // sessions hold their own copies of the weights
    }
  }
  const open = async (g: Graph, profile = false) =>
    ort.InferenceSession.create(await g.toBytes(), sessionOptions(opts, profile));
  return sessionsFrom(
    graphs.spec,
    await open(graphs.vision),
    await open(graphs.embed),
    await open(graphs.decoder, true),
  );
}

function sessionOptions(opts: SessionOptions, profile: boolean): ort.InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
    ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}),
    ...(profile && opts.profileFilePrefix
      ? { enableProfiling: true, profileFilePrefix: opts.profileFilePrefix }
      : {}),
  };
}

function sessionsFrom(
  spec: GraphSpec,
  vision: ort.InferenceSession,
  embed: ort.InferenceSession,
  decoder: ort.InferenceSession,
): LlavaSessions {
  return { vision: new OrtVisionEncoder(vision, spec), lm: new OrtCausalLM(embed, decoder, spec), spec };
}

export class OrtVisionEncoder implements VisionEncoder {
  readonly tokens: number;
  readonly hidden: number;
  readonly imageSize: number;

  constructor(
    private readonly session: ort.InferenceSession,
    spec: GraphSpec,
  ) {
    this.tokens = spec.imageTokens;
    this.hidden = spec.hidden;
    this.imageSize = spec.imageSize;
  }

  async encode(pixels: Float32Array): Promise<Float32Array> {
    const S = this.imageSize;
    if (pixels.length !== 3 * S * S) {
      throw inputError('llava.pixels', 'pixel tensor has the wrong size', {
        expected: `3 x ${S} x ${S} = ${3 * S * S} floats`,
        found: String(pixels.length),
      });
    }
    const out = await this.session.run({ pixel_values: new ort.Tensor('float32', pixels, [1, 3, S, S]) });
    return out.image_rows!.data as Float32Array;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

export class OrtCausalLM implements CausalLM {
  readonly vocabSize: number;
  readonly maxContext: number;
  /**
   * The latest decoder runs (at most RUN_LOG): the past length each saw (proof that the cached path ran) and the
   * cached positions it attended to (`width`: the layout's capacity, masked past `past`).
   */
  readonly runs: { past: number; tokens: number; width: number }[] = [];
  private readonly kv: KvCaches;

  constructor(
    private readonly embedSession: ort.InferenceSession,
    private readonly decoder: ort.InferenceSession,
    private readonly spec: GraphSpec,
  ) {
    this.vocabSize = spec.vocabSize;
    this.maxContext = spec.maxContext;
    this.kv = new KvCaches(spec);
  }

  /**
   * Allocate the KV cache for a sequence of up to `positions` now (prompt + new tokens), so that the first
   * prefill does not pay for fresh memory pages; later sequences reuse released caches anyway.
   */
  reserve(positions: number): void {
    this.kv.reserve(Math.min(positions, this.maxContext));
  }

  /** `chunk`: prompt positions per decoder run (PREFILL_CHUNK; tests compare other sizes). */
  async prefill(inputIds: number[], imageRows: Float32Array | null, chunk = PREFILL_CHUNK) {
    if (!(Number.isInteger(chunk) && chunk > 0))
      throw new Error(`prefill chunk must be a positive integer: ${chunk}`);
    const embeds = await this.promptEmbeddings(inputIds, imageRows);
    const H = this.spec.hidden;
    const tokens = embeds.length / H;
    const state = this.kv.create(tokens + KV_GROWTH, chunk);
    let logits: Float32Array | null = null;
    for (let at = 0; at < tokens; at += chunk) {
      const n = Math.min(chunk, tokens - at);
      const more = at + n < tokens;
      logits = await this.forward(state, embeds.subarray(at * H, (at + n) * H), n, more ? 'exact' : 'room');
    }
    return { logits: logits!, state };
  }

  async step(state: DecoderState, tokenId: number): Promise<Float32Array> {
    const s = this.own(state);
    return this.forward(s, await this.embed([tokenId]), 1);
  }

  async fork(state: DecoderState): Promise<DecoderState> {
    return this.kv.copy(this.own(state));
  }

  release(state: DecoderState): void {
    this.kv.recycle(this.own(state));
  }

  async dispose(): Promise<void> {
    await this.embedSession.release();
    await this.decoder.release();
  }

  /** Stop profiling and let ONNX Runtime write the profile (when `profileFilePrefix` was given). */
  endProfiling(): void {
    this.decoder.endProfiling();
  }

  private own(state: DecoderState): KvState {
    if (!(state instanceof KvState)) throw new Error('decoder state does not come from this model');
    if (state.released) throw new Error('decoder state was released');
    return state;
  }

  private async embed(ids: number[]): Promise<Float32Array> {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw inputError('llava.token_id', 'token id out of range', {
          expected: `an integer in [0, ${this.vocabSize})`,
          found: String(id),
        });
      }
    }
    const t = new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
    const out = await this.embedSession.run({ [DECODER_IO.inputIds]: t });
    return out[DECODER_IO.embeds]!.data as Float32Array;
  }

  /** Token rows with the image rows spliced in place of the single IMAGE_TOKEN_ID. */
  private async promptEmbeddings(ids: number[], imageRows: Float32Array | null): Promise<Float32Array> {
    const at = ids.indexOf(IMAGE_TOKEN_ID);
    if (ids.lastIndexOf(IMAGE_TOKEN_ID) !== at)
      throw promptError('more than one image placeholder', 'at most one');
    if (ids.length === 0) throw promptError('empty prompt', 'at least one token');
    if (at < 0) {
      if (imageRows)
        throw promptError('image rows given but the prompt has no image placeholder', 'one -200');
      return this.embed(ids);
    }
    const H = this.spec.hidden;
    if (!imageRows || imageRows.length === 0 || imageRows.length % H !== 0) {
      throw promptError('the image placeholder needs image rows', `[tokens, ${H}] floats`);
    }
    const text = await this.embed(ids.filter((id) => id !== IMAGE_TOKEN_ID));
    const out = new Float32Array(text.length + imageRows.length);
    out.set(text.subarray(0, at * H), 0);
    out.set(imageRows, at * H);
    out.set(text.subarray(at * H), at * H + imageRows.length);
    return out;
  }

  /**
   * Run `tokens` new rows after the state's cache; append their keys/values; return the last logits. `widen`: how
   * the layout makes room for the appended rows (KvCaches.fit): 'exact' between prefill chunks, so that the next
   * chunk attends to no masked position.
   */
  private async forward(
    state: KvState,
    embeds: Float32Array,
    tokens: number,
    widen: 'exact' | 'room' = 'room',
  ): Promise<Float32Array> {
    const past = state.length;
    if (past + tokens > this.maxContext) {
      throw inputError('llava.context_full', 'the sequence is longer than the model context', {
        expected: `at most ${this.maxContext} tokens`,
        found: String(past + tokens),
      });
    }
    const { heads, hidden } = this.spec;
    // An empty cache is fed as one masked zero row (zero-length tensors are not accepted everywhere).
    const pastRows = past === 0 ? 1 : state.capacity;
    const emptyPast = past === 0 ? this.kv.planes.map((p) => this.kv.emptyRow(p)) : null;
    // With int8 keys the cache masks its own unused positions (kv-cache.ts): the mask covers the new block only.
    const maskedPast = this.spec.kvKeys === 'int8' ? 0 : pastRows;
    const mask = maskedPast === 0 ? attentionMask(0, 0, tokens) : attentionMask(past, pastRows, tokens);
    const feeds: Record<string, ort.Tensor> = {
      [DECODER_IO.embeds]: new ort.Tensor('float32', embeds, [1, tokens, hidden]),
      [DECODER_IO.positions]: new ort.Tensor('int64', positionIds(past, tokens), [1, tokens]),
      [DECODER_IO.mask]: new ort.Tensor('float32', mask, [1, 1, tokens, maskedPast + tokens]),
    };
    const planes = this.kv.planes;
    for (let i = 0; i < this.spec.layers; i++) {
      const views = emptyPast ?? this.kv.view(state, i);
      planes.forEach((plane, p) => {
        feeds[planeInput(plane, i)] = new ort.Tensor(
          plane.type,
          views[p]!,
          planeDims(plane, heads, pastRows),
        );
      });
    }
    const out = await this.decoder.run(feeds);
    this.runs.push({ past, tokens, width: past === 0 ? 0 : pastRows });
    if (this.runs.length > RUN_LOG) this.runs.shift();
    this.kv.fit(state, past + tokens, widen === 'exact');
    for (let i = 0; i < this.spec.layers; i++) {
      const rows = planes.map((plane) => out[planeOutput(plane, i)]!.data as Float32Array | Int8Array);
      this.kv.append(state, i, rows, tokens);
    }
    state.length = past + tokens;
    const logits = out[DECODER_IO.logits]!.data as Float32Array;
    // A NaN anywhere in the cache reaches the last position's logits (it attends to every cached row).
    if (state.finite && !allFinite(logits)) state.finite = false;
    return logits;
  }
}

function allFinite(x: Float32Array): boolean {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return false;
  return true;
}

function positionIds(past: number, tokens: number): BigInt64Array {
  return BigInt64Array.from({ length: tokens }, (_, i) => BigInt(past + i));
}

/** Additive mask [tokens, pastRows + tokens]: cached rows below `past` and the causal triangle are visible. */
function attentionMask(past: number, pastRows: number, tokens: number): Float32Array {
  const width = pastRows + tokens;
  const mask = new Float32Array(tokens * width).fill(Number.NEGATIVE_INFINITY);
  for (let r = 0; r < tokens; r++) {
    mask.fill(0, r * width, r * width + past);
    mask.fill(0, r * width + pastRows, r * width + pastRows + r + 1);
  }
  return mask;
}

function promptError(message: string, expected: string) {
  return inputError('llava.prompt', message, { field: 'input_ids', expected });
}
