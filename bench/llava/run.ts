/**
 * The llava bench's steps: build each model (through the graph builders and saveGraphs, or as GGUF), measure each
 * engine in a child process (child.ts), and gather the figures (report.ts prints them).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildGraphs, GRAPH_SPEC_FILE, saveGraphs } from '../../src/llava/index.js';
import { DEFAULT_INT4_BLOCK_SIZE, type Int4BlockSize } from '../../src/onnx/index.js';
import type { ChildJob, ChildResult, PromptPlan } from './child.js';
import type { GgmlQuant } from './ggml-quant.js';
import { writeDecoderGguf } from './gguf-model.js';
import { type BenchShape, randomWeights } from './shapes.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');
const PYTHON = '/usr/bin/python3';
/** Marks a cached model folder as completely written. */
const COMPLETE = '.complete';

export const ENGINES = [
  'vision-fp32',
  'vision-fp16',
  'torch-fp32',
  'cxr-int4',
  'cxr-int4-f32-keys',
  'cxr-int4-b32',
  'cxr-int4-b128',
  'llama-q4_0',
  'llama-q4_0-fa-off',
  'cxr-int8',
  'llama-q8_0',
] as const;
export type Engine = (typeof ENGINES)[number];

/**
 * Engines run when none are named: cxr int4 in its default blocks of 64 (as accurate as Q4_0: bench quant), with
 * its default int8 cached keys and with float32 keys (more accurate than llama.cpp's default f16 cache: bench
 * kv-keys), against llama.cpp with flash attention as node-llama-cpp chooses and off (the faster decode here), int8
 * against Q8_0. cxr-int4-b32 (more accurate than Q4_0) and cxr-int4-b128 (less accurate, faster) are asked for by
 * name.
 */
export const DEFAULT_ENGINES: readonly Engine[] = ENGINES.filter(
  (e) => e !== 'cxr-int4-b32' && e !== 'cxr-int4-b128',
);

/** The int4 block length of a cxr-int4 engine. */
const INT4_BLOCKS: Partial<Record<Engine, Int4BlockSize>> = {
  'cxr-int4': DEFAULT_INT4_BLOCK_SIZE,
  'cxr-int4-f32-keys': DEFAULT_INT4_BLOCK_SIZE,
  'cxr-int4-b32': 32,
  'cxr-int4-b128': 128,
};

/** Engines that measure another engine's model with other settings share its folder. */
function modelOf(engine: Engine): Engine {
  return engine === 'llama-q4_0-fa-off' ? 'llama-q4_0' : engine;
}

export interface RunOptions {
  shape: BenchShape;
  threads: number;
  decodeTokens: number;
  /** Prefills per decoder engine (median reported). */
  prefillReps: number;
  /**
   * Times the whole engine list is measured, round after round (default 1). This machine's speed drifts by up to
   * 10-15% over minutes (other tenants), which a single pass turns into a bias between engines measured apart;
   * rounds interleave them, and each figure pools its rounds (Measured.rounds keeps each round's own figures).
   */
  rounds?: number;
  visionReps: number;
  engines: readonly Engine[];
  /** Folder for the built models; kept and reused when given, else a temporary folder deleted afterwards. */
  work: string;
  /** llama.cpp flash attention on/off (default: its own choice). */
  flashAttention?: boolean;
  /** Only build the models into `work` (to measure later with the same folder). */
  buildOnly?: boolean;
  log: (line: string) => void;
}

export interface Measured extends ChildResult {
  engine: Engine;
  /** Seconds spent building the model (null when reused from the cache folder). */
  buildS: number | null;
  modelBytes: number;
  /** /proc/loadavg (1 minute) before and after the measurement. */
  loadAvg: [number, number];
  skipped?: string;
  /** With several rounds: each round's median prefill ms and mean decode ms per token, in order. */
  rounds?: { prefillMs?: number; decodeMs?: number }[];
}

export function loadAvg1(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

/** Build (or reuse) and measure every requested engine, one at a time. */
export async function runEngines(o: RunOptions): Promise<Measured[]> {
  const weights = randomWeights(o.shape);
  const c = o.shape.config;
  const grid = c.vision.imageSize / c.vision.patchSize;
  const plan: PromptPlan = {
    imageTokens: grid * grid,
    textTokens: o.shape.textTokens,
    hidden: c.llama.hiddenSize,
    vocabSize: c.llama.vocabSize,
    decodeTokens: o.decodeTokens,
    prefillReps: o.prefillReps,
  };
  const out: Measured[] = [];
  const rounds = o.rounds ?? 1;
  for (let round = 0; round < rounds; round++) {
    for (const engine of o.engines) {
      const m = await measureEngine(
        engine,
        o,
        plan,
        weights,
        rounds > 1 ? ` (round ${round + 1}/${rounds})` : '',
      );
      if (!m) continue;
      const at = out.findIndex((x) => x.engine === engine);
      if (at < 0) out.push(m);
      else out[at] = pool(out[at]!, m);
    }
    if (o.buildOnly) break;
  }
  return out;
}

/** Build (or reuse) one engine's model and measure it; null with buildOnly. */
async function measureEngine(
  engine: Engine,
  o: RunOptions,
  plan: PromptPlan,
  weights: ReturnType<typeof randomWeights>,
  label: string,
): Promise<Measured | null> {
  const c = o.shape.config;
  const model = modelOf(engine);
  const path = join(o.work, `${model}-L${c.llama.numHiddenLayers}-H${c.llama.hiddenSize}`);
  o.log(`${engine}: building ${path}`);
  const built = await cached(path, () => build(model, path, weights, o.shape));
  const buildS = engine === 'torch-fp32' ? null : built; // torch builds its network in the measuring process
  if (o.buildOnly) return null;
  const job = jobFor(engine, path, o, plan);
  if (typeof job === 'string') {
    return {
      engine,
      buildS,
      modelBytes: 0,
      loadAvg: [loadAvg1(), loadAvg1()],
      peakRssBytes: 0,
      skipped: job,
    };
  }
  o.log(`${engine}: measuring${label} (load average ${loadAvg1()})`);
  const before = loadAvg1();
  const result = await runChild(job);
  return { engine, buildS, modelBytes: await folderBytes(path), loadAvg: [before, loadAvg1()], ...result };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** One round's own figures (Measured.rounds). */
function roundOf(m: Measured): { prefillMs?: number; decodeMs?: number } {
  return {
    ...(m.prefillMs === undefined ? {} : { prefillMs: m.prefillMs }),
    ...(m.decodeMs?.length ? { decodeMs: mean(m.decodeMs) } : {}),
  };
}

/** Two rounds of one engine as one measurement: every prefill, decode step and vision run pooled; peaks the max. */
function pool(a: Measured, b: Measured): Measured {
  if (a.skipped || b.skipped) return a;
  const cat = (x?: number[], y?: number[]) => (x || y ? [...(x ?? []), ...(y ?? [])] : undefined);
  const prefillRunsMs = cat(a.prefillRunsMs, b.prefillRunsMs);
  const loadMs = a.loadMs !== undefined && b.loadMs !== undefined ? Math.min(a.loadMs, b.loadMs) : a.loadMs;
  return {
    ...a,
    loadAvg: [a.loadAvg[0], b.loadAvg[1]],
    peakRssBytes: Math.max(a.peakRssBytes, b.peakRssBytes),
    ...(loadMs === undefined ? {} : { loadMs }),
    ...(prefillRunsMs ? { prefillRunsMs, prefillMs: median(prefillRunsMs) } : {}),
    ...(a.decodeMs || b.decodeMs ? { decodeMs: cat(a.decodeMs, b.decodeMs) } : {}),
    ...(a.visionMs || b.visionMs ? { visionMs: cat(a.visionMs, b.visionMs) } : {}),
    rounds: [...(a.rounds ?? [roundOf(a)]), roundOf(b)],
  };
}

async function cached(path: string, make: () => Promise<void>): Promise<number | null> {
  if (existsSync(join(path, COMPLETE))) return null;
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
  const t = performance.now();
  await make();
  writeFileSync(join(path, COMPLETE), '');
  return (performance.now() - t) / 1000;
}

async function build(
  engine: Engine,
  dir: string,
  weights: ReturnType<typeof randomWeights>,
  shape: BenchShape,
): Promise<void> {
  switch (engine) {
    case 'vision-fp32':
    case 'vision-fp16': {
      // The vision graph exactly as a bundle holds it; the decoder graph built alongside is never written.
      const graphs = buildGraphs(weights, { visionDtype: engine === 'vision-fp32' ? 'fp32' : 'fp16' });
      await graphs.vision.save(dir, 'vision');
      writeFileSync(join(dir, GRAPH_SPEC_FILE), JSON.stringify(graphs.spec));
      return;
    }
    case 'cxr-int4':
    case 'cxr-int4-f32-keys':
    case 'cxr-int4-b32':
    case 'cxr-int4-b128':
      // What `cxr import --dtype int4 [--int4-block N] [--kv-keys float32]` writes: fp16 vision, int4 decoder.
      await saveGraphs(weights, dir, {
        visionDtype: 'fp16',
        decoderDtype: 'int4',
        int4BlockSize: INT4_BLOCKS[engine]!,
        ...(engine === 'cxr-int4-f32-keys' ? { kvKeys: 'float32' as const } : {}),
      });
      return;
    case 'cxr-int8':
      await saveGraphs(weights, dir, { visionDtype: 'fp16', decoderDtype: 'int8' });
      return;
    case 'llama-q4_0':
    case 'llama-q4_0-fa-off':
    case 'llama-q8_0':
      writeDecoderGguf(join(dir, 'model.gguf'), shape.config.llama, ggmlType(engine));
      return;
    case 'torch-fp32':
      return;
  }
}

function ggmlType(engine: 'llama-q4_0' | 'llama-q4_0-fa-off' | 'llama-q8_0'): GgmlQuant {
  return engine === 'llama-q8_0' ? 'Q8_0' : 'Q4_0';
}

/** The child job for an engine, or the reason it cannot run here. */
function jobFor(
  engine: Engine,
  path: string,
  o: RunOptions,
  plan: PromptPlan,
): ChildJob | { python: string } | string {
  const { threads } = o;
  switch (engine) {
    case 'vision-fp32':
    case 'vision-fp16':
      return { kind: 'cxr-vision', dir: path, threads, reps: o.visionReps };
    case 'cxr-int4':
    case 'cxr-int4-f32-keys':
    case 'cxr-int4-b32':
    case 'cxr-int4-b128':
    case 'cxr-int8':
      return { kind: 'cxr-decoder', path, threads, decode: plan };
    case 'llama-q4_0':
    case 'llama-q4_0-fa-off':
    case 'llama-q8_0':
      return {
        kind: 'llama',
        path: join(path, 'model.gguf'),
        threads,
        decode: plan,
        flashAttention: engine === 'llama-q4_0-fa-off' ? false : o.flashAttention,
      };
    case 'torch-fp32':
      return torchJob(o);
  }
}

function torchJob(o: RunOptions): { python: string } | string {
  if (!existsSync(PYTHON)) return `${PYTHON} is not installed`;
  const v = o.shape.config.vision;
  return {
    python: JSON.stringify({
      imageSize: v.imageSize,
      patchSize: v.patchSize,
      width: v.width,
      heads: v.heads,
      mlpDim: v.mlpDim,
      blocks: v.selectLayer,
      projHidden: o.shape.config.projector.hiddenSize,
      threads: o.threads,
      reps: o.visionReps,
    }),
  };
}

/** Run one measurement process; its last stdout line is the JSON result. */
function runChild(job: ChildJob | { python: string }): Promise<ChildResult & { skipped?: string }> {
  const [cmd, args, env] =
    'python' in job
      ? [PYTHON, [join(HERE, 'torch_vit.py'), job.python], { OPENBLAS_CORETYPE: 'SKYLAKEX' }]
      : [process.execPath, ['--import', 'tsx', join(HERE, 'child.ts'), JSON.stringify(job)], {}];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && last.startsWith('{')) return resolve(JSON.parse(last) as ChildResult);
      const why = (stderr.trim().split('\n').pop() ?? '').slice(0, 300) || `exit ${code}`;
      if ('python' in job) return resolve({ peakRssBytes: 0, skipped: `python3-torch failed: ${why}` });
      reject(new Error(`${cmd} ${args[1]} (exit ${code}): ${stderr.slice(-2000)}`));
    });
  });
}

async function folderBytes(dir: string): Promise<number> {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const f of await readdir(dir)) n += statSync(join(dir, f)).size;
  return n;
}
