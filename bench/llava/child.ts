/**
 * One engine measured in its own process, so that VmHWM (peak resident memory) belongs to that engine alone.
 * `node --import tsx bench/llava/child.ts '<json ChildJob>'` prints one JSON line (ChildResult) last on stdout.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { IMAGE_TOKEN_ID, loadCausalLM, OrtVisionEncoder } from '../../src/llava/index.js';
import type { GraphSpec } from '../../src/llava/sessions.js';
import { randomTensor } from './shapes.js';

export interface DecoderJob {
  kind: 'cxr-decoder' | 'llama';
  path: string;
  threads: number;
  decode: PromptPlan;
  /** llama.cpp flash attention (default: node-llama-cpp's own, 'auto'). */
  flashAttention?: boolean;
}

export type ChildJob = { kind: 'cxr-vision'; dir: string; threads: number; reps: number } | DecoderJob;

export interface PromptPlan {
  imageTokens: number;
  textTokens: number;
  hidden: number;
  vocabSize: number;
  decodeTokens: number;
  /** Prefills of the prompt (the median is reported; the cache is cleared between them, the decode follows the last). */
  prefillReps: number;
}

export interface ChildResult {
  loadMs?: number;
  visionMs?: number[];
  /** Median of prefillRunsMs. */
  prefillMs?: number;
  prefillRunsMs?: number[];
  /** Prompt positions the prefill ran (image rows + text tokens). */
  prefillTokens?: number;
  decodeMs?: number[];
  peakRssBytes: number;
  /** VmHWM right after loading (the load's own peak: weights read and repacked). */
  loadPeakRssBytes?: number;
  /** VmRSS right after loading (what the loaded model keeps), and the part of it that is mapped files. */
  loadedRssBytes?: number;
  loadedFileRssBytes?: number;
  /** The engine's settings as it resolved them (llama.cpp: flash attention, context, batch, threads). */
  note?: string;
}

/** The first text-token id (above <unk>, <s>, </s> and the 256 byte pieces of the bench GGUF vocabulary). */
const FIRST_TEXT_ID = 259;

/** Prompt text ids, distinct and in the vocabulary. */
export function textIds(count: number, vocabSize: number): number[] {
  return Array.from({ length: count }, (_, i) => FIRST_TEXT_ID + ((i * 7919) % (vocabSize - FIRST_TEXT_ID)));
}

function status(field: 'VmHWM' | 'VmRSS' | 'RssFile'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

export const peakRssBytes = () => status('VmHWM');
const afterLoad = () => ({
  loadPeakRssBytes: status('VmHWM'),
  loadedRssBytes: status('VmRSS'),
  loadedFileRssBytes: status('RssFile'),
});

async function timed<T>(into: number[], f: () => Promise<T>): Promise<T> {
  const t = performance.now();
  const out = await f();
  into.push(performance.now() - t);
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

async function cxrVision(job: Extract<ChildJob, { kind: 'cxr-vision' }>): Promise<ChildResult> {
  const spec = JSON.parse(readFileSync(join(job.dir, 'graphs.json'), 'utf8')) as GraphSpec;
  let t = performance.now();
  const session = await ort.InferenceSession.create(join(job.dir, spec.files.vision), {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
    intraOpNumThreads: job.threads,
  });
  const encoder = new OrtVisionEncoder(session, spec);
  const loadMs = performance.now() - t;
  const S = spec.imageSize;
  const pixels = randomTensor('bench/pixels', [3, S, S], 1);
  const visionMs: number[] = [];
  for (let i = 0; i <= job.reps; i++) {
    t = performance.now();
    await encoder.encode(pixels);
    if (i > 0) visionMs.push(performance.now() - t); // run 0 warms up
  }
  await encoder.dispose();
  return { loadMs, visionMs, peakRssBytes: peakRssBytes() };
}

async function cxrDecoder(job: DecoderJob): Promise<ChildResult> {
  const p = job.decode;
  const imageRows = randomTensor('bench/image_rows', [p.imageTokens, p.hidden], 0.5);
  const ids = [IMAGE_TOKEN_ID, ...textIds(p.textTokens, p.vocabSize)];
  let t = performance.now();
  // The language model of the bundle as loadSessions opens it, without the vision graph (llama.cpp has none).
  const lm = await loadCausalLM(job.path, { threads: job.threads });
  // The KV cache for the whole sequence, allocated at load as llama.cpp allocates its context's (prompt + decode).
  lm.reserve(p.imageTokens + p.textTokens + p.decodeTokens + 1);
  const loadMs = performance.now() - t;
  const loaded = afterLoad();
  const prefillRunsMs: number[] = [];
  let prefilled = await timed(prefillRunsMs, () => lm.prefill(ids, imageRows));
  while (prefillRunsMs.length < p.prefillReps) {
    lm.release(prefilled.state); // a batch's next report reuses the released cache the same way
    prefilled = await timed(prefillRunsMs, () => lm.prefill(ids, imageRows));
  }
  const state = prefilled.state;
  let logits = prefilled.logits;
  const decodeMs: number[] = [];
  for (let i = 0; i < p.decodeTokens; i++) {
    t = performance.now();
    logits = await lm.step(state, argmax(logits));
    decodeMs.push(performance.now() - t);
  }
  lm.release(state);
  await lm.dispose();
  return {
    loadMs,
    ...loaded,
    prefillMs: median(prefillRunsMs),
    prefillRunsMs,
    prefillTokens: p.imageTokens + p.textTokens,
    decodeMs,
    peakRssBytes: peakRssBytes(),
  };
}

async function llamaCpp(job: DecoderJob): Promise<ChildResult> {
  const p = job.decode;
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  const llama = await getLlama({ build: 'never', gpu: false, logLevel: LlamaLogLevel.error });
  let t = performance.now();
  const model = await llama.loadModel({ modelPath: job.path });
  const prompt = textIds(p.imageTokens + p.textTokens, p.vocabSize);
  const context = await model.createContext({
    contextSize: prompt.length + p.decodeTokens + 1,
    threads: job.threads,
    sequences: 1,
    ...(job.flashAttention === undefined ? {} : { flashAttention: job.flashAttention }),
  });
  const sequence = context.getSequence();
  const note =
    `flash attention ${context.flashAttention}, context ${context.contextSize}, ` +
    `batch ${context.batchSize}, threads ${context.currentThreads}`;
  const loadMs = performance.now() - t;
  const loaded = afterLoad();
  const prefillRunsMs: number[] = [];
  while (prefillRunsMs.length < p.prefillReps) {
    if (prefillRunsMs.length > 0) await sequence.clearHistory();
    await timed(prefillRunsMs, () => sequence.evaluateWithoutGeneratingNewTokens(prompt as never));
  }
  // Each value the generator yields is one decode step: evaluate the last token, sample the next (greedy).
  const decodeMs: number[] = [];
  t = performance.now();
  for await (const _ of sequence.evaluate([prompt[0]!] as never, { temperature: 0 })) {
    const now = performance.now();
    decodeMs.push(now - t);
    t = now;
    if (decodeMs.length === p.decodeTokens) break;
  }
  await context.dispose();
  await model.dispose();
  await llama.dispose();
  return {
    loadMs,
    ...loaded,
    prefillMs: median(prefillRunsMs),
    prefillRunsMs,
    prefillTokens: prompt.length,
    decodeMs,
    note,
    peakRssBytes: peakRssBytes(),
  };
}

async function run(job: ChildJob): Promise<ChildResult> {
  switch (job.kind) {
    case 'cxr-vision':
      return cxrVision(job);
    case 'cxr-decoder':
      return cxrDecoder(job);
    case 'llama':
      return llamaCpp(job);
  }
}

const arg = process.argv[2];
if (arg) process.stdout.write(`\n${JSON.stringify(await run(JSON.parse(arg) as ChildJob))}\n`);
