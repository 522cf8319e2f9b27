/**
 * Image -> findings: load and preprocess the image, encode it, build the prompt, generate, with the time of
 * each stage. A model (sessions + tokenizer) is opened once and shared by every study of a run.
 */
import { type LoadOptions, loadImage, preprocessImage } from '../image/index.js';
import { LlamaTokenizer } from '../tokenizer/index.js';
import { openLlavaRad } from '../weights/index.js';
import { type BundleDtype, loadBundle } from './bundle.js';
import { type GenerationOptions, generate, type StopReason } from './generate.js';
import { type InstructionKind, promptIds } from './prompt.js';
import { createSessions, loadSessions, type SessionOptions } from './sessions.js';
import type { CausalLM, VisionEncoder } from './types.js';

export interface LlavaModel {
  vision: VisionEncoder;
  lm: CausalLM;
  tokenizer: LlamaTokenizer;
  /** Where the model came from, for reports. */
  origin: string;
  dispose(): Promise<void>;
}

function modelFrom(
  sessions: { vision: VisionEncoder; lm: CausalLM },
  tokenizer: LlamaTokenizer,
  origin: string,
): LlavaModel {
  return {
    ...sessions,
    tokenizer,
    origin,
    dispose: async () => {
      await sessions.vision.dispose();
      await sessions.lm.dispose();
    },
  };
}

/** Open a bundle made by `cxr import` (verified against its manifest first). */
export async function openBundleModel(dir: string, opts: SessionOptions = {}): Promise<LlavaModel> {
  const bundle = await loadBundle(dir);
  const tokenizer = LlamaTokenizer.fromFile(bundle.tokenizerPath);
  return modelFrom(await loadSessions(bundle.dir, opts), tokenizer, bundle.dir);
}

/** Build the model in memory straight from the released layout (no bundle on disk). */
export async function openReleasedModel(
  llavaDir: string,
  baseDir: string,
  opts: SessionOptions & { dtype?: BundleDtype } = {},
): Promise<LlavaModel> {
  const weights = await openLlavaRad({ llavaDir, baseDir });
  try {
    const dtype = opts.dtype ?? 'fp32';
    const sessions = await createSessions(weights, {
      ...opts,
      visionDtype: dtype === 'fp32' ? 'fp32' : 'fp16',
      decoderDtype: dtype,
    });
    return modelFrom(
      sessions,
      LlamaTokenizer.fromFile(weights.tokenizerModelPath),
      `${llavaDir} + ${baseDir}`,
    );
  } finally {
    await weights.close();
  }
}

export interface StudyRequest {
  image: string;
  indication?: string | null;
  instruction?: InstructionKind;
}

export interface StageTimings {
  preprocess_ms: number;
  vision_ms: number;
  prefill_ms: number;
  decode_ms: number;
  decode_tokens_per_s: number;
}

export interface FindingsResult {
  image: string;
  findings: string;
  token_ids: number[];
  stop_reason: StopReason;
  prompt_tokens: number;
  timings: StageTimings;
}

export interface FindingsOptions {
  generation?: GenerationOptions;
  image?: LoadOptions;
}

/** One study through the whole pipeline. */
export async function runFindings(
  model: LlavaModel,
  request: StudyRequest,
  opts: FindingsOptions = {},
): Promise<FindingsResult> {
  const t0 = performance.now();
  const { raster } = await loadImage(request.image, opts.image);
  const { pixels } = preprocessImage(raster, { imageSize: model.vision.imageSize });
  const t1 = performance.now();
  const rows = await model.vision.encode(pixels);
  const t2 = performance.now();
  const ids = promptIds(model.tokenizer, {
    indication: request.indication,
    instruction: request.instruction,
  });
  const result = await generate(
    model.lm,
    model.tokenizer,
    ids,
    { rows, tokens: model.vision.tokens },
    opts.generation,
  );
  return {
    image: request.image,
    findings: result.text,
    token_ids: result.tokenIds,
    stop_reason: result.stopReason,
    prompt_tokens: ids.length,
    timings: {
      preprocess_ms: round(t1 - t0),
      vision_ms: round(t2 - t1),
      prefill_ms: round(result.timings.prefillMs),
      decode_ms: round(result.timings.decodeMs),
      decode_tokens_per_s: round(result.timings.decodeTokensPerS),
    },
  };
}

/** Timings are reported to 0.01 (ms or tokens/s). */
const TIMING_DECIMALS = 100;
function round(x: number): number {
  return Math.round(x * TIMING_DECIMALS) / TIMING_DECIMALS;
}
