/**
 * `npm run bench -- llava [--layers N] [--threads T] [--decode 64] [--prefill-reps 3] [--reps 3] [--engines a,b]
 *   [--rounds R] [--work DIR [--build-only]] [--llama-flash-attention on|off] [--json]`
 *
 * LLaVA-Rad at the real shapes with random weights (distinct per tensor), cxr against llama.cpp in the same run:
 *   vision: ViT-B/14 at 518 px + projector, fp32 and fp16 (ms, median of --reps), and the same fp32 network in
 *           Debian's python3-torch when /usr/bin/python3 has torch;
 *   decoder: LLaMA-7B (32 layers, 4096, 11008, 32 heads, vocab 32000) as cxr int4 / int8 bundles (saveGraphs, loaded
 *           with loadSessions as `cxr findings` does) and as Q4_0 / Q8_0 GGUF through node-llama-cpp: prefill of a
 *           1,430-token prompt (1,369 spliced image rows + 61 text tokens; llama.cpp gets 1,430 token ids; median of
 *           --prefill-reps, the cache cleared between them), decode of --decode tokens at that context, peak RSS
 *           (VmHWM of the engine's own process), load time (for both engines it includes allocating the cache).
 * Engines (--engines a,b or all; default all but the two int4 block variants): cxr-int4 (blocks of 64, as accurate as Q4_0:
 * `npm run bench -- quant`; int8 cached keys), cxr-int4-f32-keys (the same with float32 keys: `bench kv-keys`),
 * cxr-int4-b32 (more accurate), cxr-int4-b128 (faster, less accurate), cxr-int8,
 * llama-q4_0 (flash attention as node-llama-cpp chooses), llama-q4_0-fa-off, llama-q8_0, vision-fp32, vision-fp16,
 * torch-fp32. cxr int4 is compared with the better llama.cpp Q4_0 row for each figure.
 * --layers N builds N decoder layers and scales decoder times by 32 / N (stated in the output; memory unscaled).
 * Models go to a temporary folder deleted afterwards; --work DIR keeps them there and reuses them on the next run
 * (--build-only with --work builds them without measuring, e.g. while the machine is busy).
 * --rounds R measures the engine list R times in turn and pools each engine's prefills and decode steps: this
 * machine's speed drifts by 10-15% over minutes, which one pass turns into a bias between engines measured apart
 * (each round's own figures are in the JSON rows).
 * --llama-flash-attention on|off overrides node-llama-cpp's default ('auto') for the llama-q4_0 / q8_0 rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Row, ratios, rows, table } from './llava/report.js';
import { DEFAULT_ENGINES, ENGINES, type Engine, loadAvg1, runEngines } from './llava/run.js';
import { type BenchShape, REAL_SHAPE, TINY_SHAPE, withLayers } from './llava/shapes.js';

export interface LlavaBenchResult {
  shape: 'real' | 'tiny';
  layers: number;
  full_layers: number;
  scaled: boolean;
  threads: number;
  rounds: number;
  prompt_tokens: number;
  image_tokens: number;
  decode_tokens: number;
  load_avg: { start: number; end: number };
  rows: Row[];
  ratios: {
    /** Each against the best llama.cpp Q4_0 row (flash attention on or off) for that figure. */
    int4_vs_q4_0: ReturnType<typeof ratios>;
    int4_f32_keys_vs_q4_0: ReturnType<typeof ratios>;
    int4_b32_vs_q4_0: ReturnType<typeof ratios>;
    int4_b128_vs_q4_0: ReturnType<typeof ratios>;
    int8_vs_q8_0: ReturnType<typeof ratios>;
    vision_fp32_vs_torch: number | null;
  };
}

export interface LlavaBenchOptions {
  tiny?: boolean;
  layers?: number;
  threads?: number;
  decodeTokens?: number;
  /** Prefills per decoder engine, median reported (default 3). */
  prefillReps?: number;
  reps?: number;
  engines?: readonly Engine[];
  /** Rounds over the engine list, figures pooled (RunOptions.rounds; default 1). */
  rounds?: number;
  work?: string;
  buildOnly?: boolean;
  flashAttention?: boolean;
  log?: (line: string) => void;
}

/** Prefills per decoder engine: one run varies by several percent here (memory placement, a cold first run). */
const DEFAULT_PREFILL_REPS = 3;

const Q4_0_ROWS: readonly Engine[] = ['llama-q4_0', 'llama-q4_0-fa-off'];

export async function runLlavaBench(o: LlavaBenchOptions = {}): Promise<LlavaBenchResult> {
  const base: BenchShape = o.tiny ? TINY_SHAPE : REAL_SHAPE;
  const fullLayers = base.config.llama.numHiddenLayers;
  const layers = o.layers ?? fullLayers;
  const shape = withLayers(base, layers);
  const threads = o.threads ?? availableParallelism();
  const work = o.work ?? mkdtempSync(join(tmpdir(), 'cxr-bench-llava-'));
  const start = loadAvg1();
  try {
    const measured = await runEngines({
      shape,
      threads,
      decodeTokens: o.decodeTokens ?? 64,
      prefillReps: o.prefillReps ?? DEFAULT_PREFILL_REPS,
      rounds: o.rounds ?? 1,
      visionReps: o.reps ?? 3,
      engines: o.engines ?? DEFAULT_ENGINES,
      work,
      buildOnly: o.buildOnly,
      flashAttention: o.flashAttention,
      log: o.log ?? (() => {}),
    });
    const rs = rows(measured, { layers, fullLayers });
    const v = shape.config.vision;
    const imageTokens = (v.imageSize / v.patchSize) ** 2;
    const vision = (e: Engine) => rs.find((r) => r.engine === e && !r.skipped)?.vision_ms ?? null;
    const cxrVision = vision('vision-fp32');
    const torchVision = vision('torch-fp32');
    return {
      shape: o.tiny ? 'tiny' : 'real',
      layers,
      full_layers: fullLayers,
      scaled: layers !== fullLayers,
      threads,
      rounds: o.rounds ?? 1,
      prompt_tokens: imageTokens + shape.textTokens,
      image_tokens: imageTokens,
      decode_tokens: o.decodeTokens ?? 64,
      load_avg: { start, end: loadAvg1() },
      rows: rs,
      ratios: {
        int4_vs_q4_0: ratios(rs, 'cxr-int4', Q4_0_ROWS),
        int4_f32_keys_vs_q4_0: ratios(rs, 'cxr-int4-f32-keys', Q4_0_ROWS),
        int4_b32_vs_q4_0: ratios(rs, 'cxr-int4-b32', Q4_0_ROWS),
        int4_b128_vs_q4_0: ratios(rs, 'cxr-int4-b128', Q4_0_ROWS),
        int8_vs_q8_0: ratios(rs, 'cxr-int8', ['llama-q8_0']),
        vision_fp32_vs_torch:
          cxrVision && torchVision ? Math.round((cxrVision / torchVision) * 1000) / 1000 : null,
      },
    };
  } finally {
    if (!o.work) rmSync(work, { recursive: true, force: true });
  }
}

export function describe(r: LlavaBenchResult): string {
  const lines = [
    `LLaVA-Rad ${r.shape} shapes, ${r.threads} threads, ${r.rounds} round(s), prompt ${r.prompt_tokens} tokens (${r.image_tokens} image rows), ` +
      `decode ${r.decode_tokens} tokens; load average ${r.load_avg.start} at start, ${r.load_avg.end} at end`,
  ];
  if (r.scaled)
    lines.push(
      `decoder built with ${r.layers} of ${r.full_layers} layers: decoder TIMES SCALED by ` +
        `${r.full_layers}/${r.layers} (linear; embedding, lm_head and runtime overhead are over-counted); ` +
        'peak RSS as measured on the small model',
    );
  lines.push('', table(r.rows), '');
  for (const row of r.rows) if (row.note) lines.push(`${row.engine}: ${row.note}`);
  const fmt = (x: { decode: number | null; prefill: number | null; peak_rss: number | null }) =>
    `decode s/tok ${x.decode ?? '-'} (target <= 1), prefill tok/s ${x.prefill ?? '-'} (>= 1), peak RSS ${x.peak_rss ?? '-'}`;
  lines.push(`cxr int4 (blocks of 64) / best llama.cpp Q4_0: ${fmt(r.ratios.int4_vs_q4_0)} (<= 1.1)`);
  const extra = [
    ['cxr int4 with float32 keys', r.ratios.int4_f32_keys_vs_q4_0],
    ['cxr int4 blocks of 32', r.ratios.int4_b32_vs_q4_0],
    ['cxr int4 blocks of 128', r.ratios.int4_b128_vs_q4_0],
  ] as const;
  for (const [name, x] of extra)
    if (x.decode !== null) lines.push(`${name} / best llama.cpp Q4_0: ${fmt(x)}`);
  lines.push(`cxr int8 / llama.cpp Q8_0: ${fmt(r.ratios.int8_vs_q8_0)}`);
  lines.push(`cxr vision fp32 / torch fp32 ms: ${r.ratios.vision_fp32_vs_torch ?? '-'}`);
  return lines.join('\n');
}

function onOff(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (v !== 'on' && v !== 'off') throw new Error(`--llama-flash-attention takes on or off, not ${v}`);
  return v === 'on';
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      layers: { type: 'string' },
      threads: { type: 'string' },
      decode: { type: 'string', default: '64' },
      'prefill-reps': { type: 'string', default: String(DEFAULT_PREFILL_REPS) },
      reps: { type: 'string', default: '3' },
      engines: { type: 'string' },
      rounds: { type: 'string', default: '1' },
      work: { type: 'string' },
      tiny: { type: 'boolean', default: false },
      'build-only': { type: 'boolean', default: false },
      'llama-flash-attention': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const engines = (values.engines === 'all' ? ENGINES : values.engines?.split(',')) as Engine[] | undefined;
  const unknown = engines?.filter((e) => !ENGINES.includes(e));
  if (unknown?.length)
    throw new Error(`unknown engine(s) ${unknown.join(', ')}; known: ${ENGINES.join(', ')}`);
  const result = await runLlavaBench({
    tiny: values.tiny,
    layers: values.layers ? Number(values.layers) : undefined,
    threads: values.threads ? Number(values.threads) : undefined,
    decodeTokens: Number(values.decode),
    prefillReps: Number(values['prefill-reps']),
    reps: Number(values.reps),
    rounds: Number(values.rounds),
    engines,
    work: values.work,
    buildOnly: values['build-only'],
    flashAttention: onOff(values['llama-flash-attention']),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${describe(result)}\n`);
}
