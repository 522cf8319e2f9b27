/**
 * `npm run bench -- chexbert [--reports N] [--threads 1,2] [--lengths 100,512] [--no-torch] [--json]`
 *
 * Reports per second of the CheXbert labeler at the real BERT-base shape (12 layers, 768 wide, 14 heads on CLS)
 * with random weights, distinct per tensor, on reports of 100 and 512 tokens, at 1 and 2 threads. When Debian's
 * python3-torch is importable by /usr/bin/python3, the same model with the same weights and ids runs in PyTorch
 * (eager, as Hugging Face's BertModel computes it) in the same script, and the logits of both are compared.
 * cxr and PyTorch passes alternate and each row is the best of --repeat passes (the machine may be shared).
 */
import { type ChildProcessByStdio, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import {
  ChexbertLabeler,
  DEFAULT_BATCH_TOKENS,
  DEFAULT_MAX_BATCH,
} from '../src/eval/labels/chexbert-labeler.js';
import { BERT_BASE_UNCASED, type BertConfig, chexbertWeightShapes } from '../src/models/index.js';
import { WordPieceTokenizer } from '../src/tokenizer/index.js';
import { EntrySource, type TensorEntry } from '../src/weights/index.js';

const PYTHON = '/usr/bin/python3';
/** Uniform weights in [-WEIGHT_RANGE, WEIGHT_RANGE]: BERT-like magnitudes keep activations realistic. */
const WEIGHT_RANGE = 0.05;
const FIRST_REAL_ID = 1000;
/** Reports labelled once before timing (session warm-up). */
const WARMUP_REPORTS = 2;

interface Row {
  engine: string;
  tokens: number;
  threads: number;
  reports: number;
  seconds: number;
  reportsPerSecond: number;
  maxAbsLogitDiff?: number;
}

/** mulberry32: a small seeded generator, so every tensor gets its own reproducible values. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface RandomTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

function randomWeights(c: BertConfig): RandomTensor[] {
  return chexbertWeightShapes(c).map(([name, shape], i) => {
    const next = rng(0x9e3779b9 ^ (i * 7919));
    const data = new Float32Array(shape.reduce((x, y) => x * y, 1));
    const centre = name.endsWith('LayerNorm.weight') ? 1 : 0;
    for (let j = 0; j < data.length; j++) data[j] = centre + (next() * 2 - 1) * WEIGHT_RANGE;
    return { name, shape, data };
  });
}

function asSource(weights: RandomTensor[]): EntrySource {
  const entries = new Map<string, TensorEntry>();
  for (const { name, shape, data } of weights) {
    entries.set(name, {
      info: { name, dtype: 'F32', shape },
      read: async () => new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
  }
  return new EntrySource('random bert-base weights', entries);
}

/** Reports of exactly `tokens` ids: [CLS] random pieces [SEP]. */
function randomReports(count: number, tokens: number, c: BertConfig, seed: number): number[][] {
  const next = rng(seed);
  return Array.from({ length: count }, () => [
    101,
    ...Array.from(
      { length: tokens - 2 },
      () => FIRST_REAL_ID + Math.floor(next() * (c.vocabSize - FIRST_REAL_ID)),
    ),
    102,
  ]);
}

/** Wall time of `run`, in seconds. */
async function timed<T>(run: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = performance.now();
  const value = await run();
  return { seconds: (performance.now() - start) / 1000, value };
}

/**
 * The same model in PyTorch eager mode, as Hugging Face's BertModel computes it (full last layer). It serves one
 * request per stdin line (`{"run": i}`) so its passes interleave with cxr's on a shared machine.
 */
const TORCH_SCRIPT = `
import json, math, sys, time
import numpy as np, torch
import torch.nn.functional as F
d = sys.argv[1]; spec = json.load(open(d + '/spec.json'))
torch.set_num_threads(int(sys.argv[2]))
flat = np.fromfile(d + '/weights.f32', dtype=np.float32)
W = {n: torch.from_numpy(flat[o:o + int(np.prod(s))].reshape(s)) for n, s, o in spec['tensors']}
H, nh, L, eps = spec['hidden'], spec['heads'], spec['layers'], spec['eps']
hd = H // nh
def forward(ids, mask):
    B, T = ids.shape
    x = W['bert.embeddings.word_embeddings.weight'][ids] + W['bert.embeddings.token_type_embeddings.weight'][0]
    x = x + W['bert.embeddings.position_embeddings.weight'][:T]
    x = F.layer_norm(x, (H,), W['bert.embeddings.LayerNorm.weight'], W['bert.embeddings.LayerNorm.bias'], eps)
    ext = (1.0 - mask[:, None, None, :]) * torch.finfo(torch.float32).min
    for i in range(L):
        p = 'bert.encoder.layer.%d.' % i
        lin = lambda t, n: F.linear(t, W[p + n + '.weight'], W[p + n + '.bias'])
        split = lambda t: t.view(B, T, nh, hd).transpose(1, 2)
        q, k, v = (split(lin(x, 'attention.self.' + m)) for m in ('query', 'key', 'value'))
        probs = (q @ k.transpose(-1, -2) / math.sqrt(hd) + ext).softmax(-1)
        ctx = (probs @ v).transpose(1, 2).reshape(B, T, H)
        a = F.layer_norm(lin(ctx, 'attention.output.dense') + x, (H,), W[p + 'attention.output.LayerNorm.weight'], W[p + 'attention.output.LayerNorm.bias'], eps)
        x = F.layer_norm(lin(F.gelu(lin(a, 'intermediate.dense')), 'output.dense') + a, (H,), W[p + 'output.LayerNorm.weight'], W[p + 'output.LayerNorm.bias'], eps)
    cls = x[:, 0]
    return torch.cat([F.linear(cls, W['linear_heads.%d.weight' % h], W['linear_heads.%d.bias' % h]) for h in range(14)], 1)
blas = next((l.split()[-1] for l in open('/proc/self/maps') if 'libblas' in l or 'libopenblas' in l), 'unknown BLAS')
print(json.dumps({'torch': torch.__version__, 'blas': blas}), flush=True)
for line in sys.stdin:
    run = spec['runs'][json.loads(line)['run']]
    ids = torch.from_numpy(np.fromfile(d + '/' + run['ids'], dtype=np.int64).reshape(run['count'], run['tokens']))
    with torch.inference_mode():
        start = time.perf_counter(); logits = []
        for b in range(0, run['count'], run['batch']):
            chunk = ids[b:b + run['batch']]
            logits.append(forward(chunk, torch.ones(chunk.shape, dtype=torch.float32)))
        seconds = time.perf_counter() - start
    print(json.dumps({'seconds': seconds, 'logits': torch.cat(logits).tolist()}), flush=True)
`;

function torchAvailable(): boolean {
  return spawnSync(PYTHON, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0;
}

interface BenchRun {
  tokens: number;
  threads: number;
  reports: number[][];
  /** Reports per batch: what cxr's batch planner makes of these equal lengths, given to PyTorch too. */
  batch: number;
}

/** The weights and every run's ids in a temporary folder, for the python3-torch workers. */
function writeTorchInputs(weights: RandomTensor[], runs: BenchRun[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'cxr-bench-chexbert-'));
  const tensors: Array<[string, number[], number]> = [];
  const flat = new Float32Array(weights.reduce((n, t) => n + t.data.length, 0));
  let offset = 0;
  for (const t of weights) {
    tensors.push([t.name, t.shape, offset]);
    flat.set(t.data, offset);
    offset += t.data.length;
  }
  writeFileSync(join(dir, 'weights.f32'), new Uint8Array(flat.buffer));
  const specRuns = runs.map((r, i) => {
    writeFileSync(
      join(dir, `ids${i}.i64`),
      new Uint8Array(BigInt64Array.from(r.reports.flat(), BigInt).buffer),
    );
    return { ids: `ids${i}.i64`, count: r.reports.length, tokens: r.tokens, batch: r.batch };
  });
  const c = BERT_BASE_UNCASED;
  const spec = {
    tensors,
    hidden: c.hiddenSize,
    heads: c.numAttentionHeads,
    layers: c.numHiddenLayers,
    eps: c.layerNormEps,
    runs: specRuns,
  };
  writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
  return dir;
}

/**
 * A python3-torch process limited to `threads` (OpenMP and the BLAS pool alike: Debian's torch calls
 * OpenBLAS, whose own threads torch.set_num_threads does not limit); `pass(i)` times one pass of run i.
 */
class TorchWorker {
  private constructor(
    private readonly child: ChildProcessByStdio<Writable, Readable, null>,
    private readonly lines: AsyncIterator<string>,
    readonly version: string,
    readonly blas: string,
  ) {}

  static async start(dir: string, threads: number): Promise<TorchWorker> {
    const n = String(threads);
    const env = { ...process.env, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n };
    const child = spawn(PYTHON, ['-c', TORCH_SCRIPT, dir, n], { stdio: ['pipe', 'pipe', 'inherit'], env });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const hello = await lines.next();
    if (hello.done) throw new Error('python3-torch worker exited before loading the model');
    const { torch, blas } = JSON.parse(hello.value) as { torch: string; blas: string };
    return new TorchWorker(child, lines, torch, blas);
  }

  async pass(run: number): Promise<{ seconds: number; logits: number[][] }> {
    this.child.stdin.write(`${JSON.stringify({ run })}\n`);
    const { value, done } = await this.lines.next();
    if (done) throw new Error('python3-torch worker exited');
    return JSON.parse(value) as { seconds: number; logits: number[][] };
  }

  close(): void {
    this.child.stdin.end();
  }
}

function maxDiff(onnx: number[][][], torch: number[][]): number {
  let m = 0;
  onnx.forEach((heads, i) => {
    heads.flat().forEach((v, j) => {
      m = Math.max(m, Math.abs(v - torch[i]![j]!));
    });
  });
  return m;
}

/** One configuration: cxr and PyTorch passes alternate, `repeat` each; the best of each is kept. */
async function measure(
  source: EntrySource,
  run: BenchRun,
  index: number,
  repeat: number,
  torch?: TorchWorker,
): Promise<Row[]> {
  const tokenizer = new WordPieceTokenizer(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  const labeler = await ChexbertLabeler.fromTensors(source, tokenizer, BERT_BASE_UNCASED, {
    threads: run.threads,
  });
  const best = { onnx: Number.POSITIVE_INFINITY, torch: Number.POSITIVE_INFINITY };
  let diff: number | undefined;
  try {
    await labeler.labelIds(run.reports.slice(0, WARMUP_REPORTS));
    for (let i = 0; i < repeat; i++) {
      const onnx = await timed(() => labeler.labelIds(run.reports));
      best.onnx = Math.min(best.onnx, onnx.seconds);
      if (!torch) continue;
      const t = await torch.pass(index);
      best.torch = Math.min(best.torch, t.seconds);
      diff = maxDiff(
        onnx.value.map((r) => r.logits),
        t.logits,
      );
    }
  } finally {
    await labeler.close();
  }
  const row = (engine: string, seconds: number, maxAbsLogitDiff?: number): Row => ({
    engine,
    tokens: run.tokens,
    threads: run.threads,
    reports: run.reports.length,
    seconds,
    reportsPerSecond: run.reports.length / seconds,
    maxAbsLogitDiff,
  });
  return torch
    ? [row('cxr onnxruntime', best.onnx), row('pytorch eager', best.torch, diff)]
    : [row('cxr onnxruntime', best.onnx)];
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      reports: { type: 'string', default: '16' },
      repeat: { type: 'string', default: '3' },
      threads: { type: 'string', default: '1,2' },
      lengths: { type: 'string', default: '100,512' },
      'no-torch': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const count = Number(values.reports);
  const repeat = Number(values.repeat);
  const c = BERT_BASE_UNCASED;
  const weights = randomWeights(c);
  const source = asSource(weights);
  const runs: BenchRun[] = values.lengths.split(',').flatMap((l) => {
    const tokens = Number(l);
    const reports = randomReports(count, tokens, c, tokens);
    const batch = Math.max(1, Math.min(DEFAULT_MAX_BATCH, Math.floor(DEFAULT_BATCH_TOKENS / tokens)));
    return values.threads.split(',').map((t) => ({ tokens, threads: Number(t), reports, batch }));
  });
  const dir = !values['no-torch'] && torchAvailable() ? writeTorchInputs(weights, runs) : undefined;
  let torchNote = 'python3-torch: not installed (row skipped)';
  const rows: Row[] = [];
  try {
    for (const [i, run] of runs.entries()) {
      const torch = dir ? await TorchWorker.start(dir, run.threads) : undefined;
      if (torch) torchNote = `python3-torch ${torch.version} (${PYTHON}, ${torch.blas})`;
      try {
        rows.push(...(await measure(source, run, i, repeat, torch)));
      } finally {
        torch?.close();
      }
    }
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ rows, torch: torchNote }, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `CheXbert labeler, BERT-base shape (random weights), ${count} reports per row, best of ${repeat} alternating passes; ${torchNote}\n`,
  );
  process.stdout.write('engine            tokens  threads  reports/s   seconds  max|logit diff vs cxr|\n');
  for (const r of rows) {
    process.stdout.write(
      `${r.engine.padEnd(18)}${String(r.tokens).padStart(6)}${String(r.threads).padStart(9)}` +
        `${r.reportsPerSecond.toFixed(2).padStart(11)}${r.seconds.toFixed(2).padStart(10)}` +
        `${r.maxAbsLogitDiff === undefined ? '' : r.maxAbsLogitDiff.toExponential(1).padStart(12)}\n`,
    );
  }
}
