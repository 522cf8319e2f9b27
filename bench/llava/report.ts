/** Figures from the measured engines: per-engine rows, cxr / llama.cpp ratios, the table and the JSON. */
import type { Engine, Measured } from './run.js';

const MB = 2 ** 20;

export interface Scaling {
  /** Decoder layers built and run. */
  layers: number;
  /** Layers of the real model; decoder times are multiplied by fullLayers / layers when they differ. */
  fullLayers: number;
}

export interface Row {
  engine: Engine;
  skipped?: string;
  build_s: number | null;
  model_mb: number;
  load_ms: number | null;
  vision_ms: number | null;
  prefill_tok_s: number | null;
  /** Each prefill's tokens/s (prefill_tok_s is their median). */
  prefill_tok_s_runs: number[] | null;
  decode_s_per_token: number | null;
  peak_rss_mb: number;
  /** VmHWM right after loading, and VmRSS then (decoders). */
  load_peak_rss_mb: number | null;
  loaded_rss_mb: number | null;
  /** Of loaded_rss_mb, pages of mapped files (llama.cpp maps the GGUF; ONNX Runtime maps external data). */
  loaded_file_rss_mb: number | null;
  load_avg: [number, number];
  note?: string;
  /** With several rounds (--rounds): each round's prefill tok/s and decode s/token. */
  rounds?: { prefill_tok_s: number | null; decode_s_per_token: number | null }[];
}

export interface Ratios {
  /** cxr s/token / llama.cpp s/token (target <= 1). */
  decode: number | null;
  /** cxr tok/s / llama.cpp tok/s (target >= 1). */
  prefill: number | null;
  /** cxr peak RSS / llama.cpp peak RSS (target <= 1.1 for int4). */
  peak_rss: number | null;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * One row per engine. With fewer layers than the real model, decoder times are scaled linearly by
 * fullLayers / layers (per-layer work dominates at full size; the embedding, lm_head and runtime overhead are
 * over-counted, for both engines alike). Memory is reported as measured: its fixed part is too large to scale.
 */
export function rows(measured: Measured[], s: Scaling): Row[] {
  const k = s.fullLayers / s.layers;
  return measured.map((m) => {
    const decoder = m.engine.startsWith('cxr-') || m.engine.startsWith('llama-');
    const f = decoder ? k : 1;
    const tokens = m.prefillTokens ?? 0;
    return {
      engine: m.engine,
      ...(m.skipped ? { skipped: m.skipped } : {}),
      build_s: m.buildS === null ? null : round(m.buildS, 1),
      model_mb: round(m.modelBytes / MB, 1),
      load_ms: m.loadMs === undefined ? null : round(m.loadMs, 0),
      vision_ms: m.visionMs ? round(median(m.visionMs), 1) : null,
      prefill_tok_s: m.prefillMs === undefined ? null : round(tokens / (m.prefillMs / 1000) / f, 2),
      prefill_tok_s_runs: m.prefillRunsMs?.map((ms) => round(tokens / (ms / 1000) / f, 2)) ?? null,
      decode_s_per_token: m.decodeMs ? sig((mean(m.decodeMs) / 1000) * f, 4) : null,
      peak_rss_mb: round(m.peakRssBytes / MB, 0),
      load_peak_rss_mb: m.loadPeakRssBytes === undefined ? null : round(m.loadPeakRssBytes / MB, 0),
      loaded_rss_mb: m.loadedRssBytes === undefined ? null : round(m.loadedRssBytes / MB, 0),
      loaded_file_rss_mb: m.loadedFileRssBytes === undefined ? null : round(m.loadedFileRssBytes / MB, 0),
      load_avg: m.loadAvg,
      ...(m.note ? { note: m.note } : {}),
      ...(m.rounds
        ? {
            rounds: m.rounds.map((x) => ({
              prefill_tok_s: x.prefillMs ? round(tokens / (x.prefillMs / 1000) / f, 2) : null,
              decode_s_per_token: x.decodeMs ? sig((x.decodeMs / 1000) * f, 4) : null,
            })),
          }
        : {}),
    };
  });
}

/**
 * cxr against llama.cpp; with several llama.cpp rows (flash attention on and off), each figure is compared with
 * the best llama.cpp value for it.
 */
export function ratios(rs: Row[], cxr: Engine, llama: readonly Engine[]): Ratios {
  const a = rs.find((r) => r.engine === cxr && !r.skipped);
  const bs = rs.filter((r) => llama.includes(r.engine) && !r.skipped);
  const best = (pick: (r: Row) => number | null, better: (x: number, y: number) => number) => {
    const values = bs.map(pick).filter((v): v is number => !!v);
    return values.length ? values.reduce((x, y) => better(x, y)) : null;
  };
  const ratio = (x: number | null | undefined, y: number | null) => (x && y ? sig(x / y, 3) : null);
  return {
    decode: ratio(
      a?.decode_s_per_token,
      best((r) => r.decode_s_per_token, Math.min),
    ),
    prefill: ratio(
      a?.prefill_tok_s,
      best((r) => r.prefill_tok_s, Math.max),
    ),
    peak_rss: ratio(
      a?.peak_rss_mb,
      best((r) => r.peak_rss_mb, Math.min),
    ),
  };
}

function round(x: number, digits: number): number {
  const p = 10 ** digits;
  return Math.round(x * p) / p;
}

/** `x` to `digits` significant digits (decode times span 0.1 ms on the test model to seconds at 7B). */
function sig(x: number, digits: number): number {
  return x === 0 ? 0 : Number(x.toPrecision(digits));
}

const COLUMNS: [keyof Row, string][] = [
  ['engine', 'engine'],
  ['vision_ms', 'vision ms'],
  ['prefill_tok_s', 'prefill tok/s'],
  ['decode_s_per_token', 'decode s/tok'],
  ['peak_rss_mb', 'peak RSS MB'],
  ['load_peak_rss_mb', 'load peak MB'],
  ['loaded_rss_mb', 'loaded MB'],
  ['loaded_file_rss_mb', 'of it files'],
  ['load_ms', 'load ms'],
  ['model_mb', 'model MB'],
  ['build_s', 'build s'],
  ['load_avg', 'load avg'],
];

export function table(rs: Row[]): string {
  const cell = (r: Row, key: keyof Row): string => {
    const v = r[key];
    if (key === 'load_avg') return (v as [number, number]).map((x) => x.toFixed(2)).join('/');
    if (r.skipped && key !== 'engine') return key === 'vision_ms' ? `skipped: ${r.skipped}` : '';
    return v === null || v === undefined ? '-' : String(v);
  };
  const cells = [COLUMNS.map(([, h]) => h), ...rs.map((r) => COLUMNS.map(([k]) => cell(r, k)))];
  const widths = COLUMNS.map((_, i) =>
    Math.max(...cells.map((c) => (c[i]!.startsWith('skipped') ? 0 : c[i]!.length))),
  );
  return cells
    .map((c) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  '))
    .join('\n');
}
