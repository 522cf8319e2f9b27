/**
 * `npm run bench -- weights [--gb N] [--layers N] [--json]`: read throughput of the weight readers on a
 * multi-GB synthetic PyTorch zip checkpoint and a safetensors file (written to os.tmpdir(), deleted
 * after; reads hit a warm page cache, as right after a download), and time and peak memory of the LoRA
 * merge over a stack of 4096x4096 fp16 layers with r = 64 bf16 factors (LLaVA-Rad's shapes).
 */
import { randomFillSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  contiguous,
  mergeLora,
  openTensorFile,
  type TensorSource,
  type TensorToWrite,
  writeSafetensors,
  writeTorchZip,
} from '../src/weights/index.js';

const HIDDEN = 4096;
const LORA_R = 64;
const LORA_ALPHA = 128;
const FP16_MATRIX_BYTES = HIDDEN * HIDDEN * 2;
const GB = 1e9;

/**
 * Distinct random weights for every tensor (identical tensors would flatter caches): random signs and
 * mantissas with the exponent fixed in the normal range, as trained weights are (random bit patterns
 * would be 1/8 subnormals, which real weights almost never are and which CPUs compute slowly).
 */
function randomTensor(name: string, dtype: 'F16' | 'BF16', shape: number[]): TensorToWrite {
  const bytes = shape.reduce((a, b) => a * b, 1) * 2;
  // high byte of each little-endian 16-bit value: keep the sign (and fp16's top mantissa bits), fix the exponent
  const [keep, exponent] = dtype === 'F16' ? [0x83, 0x24] : [0x80, 0x3c];
  return {
    name,
    dtype,
    shape,
    data: () => {
      const b = randomFillSync(new Uint8Array(bytes));
      for (let i = 1; i < b.length; i += 2) b[i] = (b[i]! & keep) | exponent;
      return b;
    },
  };
}

interface Row {
  what: string;
  seconds: number;
  value: string;
}

async function timeReads(source: TensorSource, mode: 'bytes' | 'float32'): Promise<number> {
  const start = performance.now();
  for (const t of source.list()) {
    if (mode === 'bytes') await source.readBytes(t.name);
    else await source.readFloat32(t.name);
  }
  return (performance.now() - start) / 1000;
}

async function readBench(dir: string, gb: number): Promise<Row[]> {
  const count = Math.max(1, Math.round((gb * GB) / FP16_MATRIX_BYTES));
  const tensors = Array.from({ length: count }, (_, i) =>
    randomTensor(`layers.${i}.weight`, 'F16', [HIDDEN, HIDDEN]),
  );
  const rows: Row[] = [];
  const files = [
    { kind: 'torch zip', path: join(dir, 'synthetic.bin') },
    { kind: 'safetensors', path: join(dir, 'synthetic.safetensors') },
  ];
  for (const { kind, path } of files) {
    let start = performance.now();
    if (kind === 'torch zip') {
      const { storages, views } = contiguous(tensors);
      await writeTorchZip(path, storages, views, { archive: 'synthetic' });
    } else {
      await writeSafetensors(path, tensors);
    }
    const size = statSync(path).size;
    rows.push({
      what: `${kind}: write ${(size / GB).toFixed(2)} GB`,
      seconds: (performance.now() - start) / 1000,
      value: '',
    });
    start = performance.now();
    const source = await openTensorFile(path);
    rows.push({
      what: `${kind}: open (index only)`,
      seconds: (performance.now() - start) / 1000,
      value: `${count} tensors`,
    });
    for (const mode of ['bytes', 'float32'] as const) {
      const s = await timeReads(source, mode);
      rows.push({
        what: `${kind}: read all as ${mode}`,
        seconds: s,
        value: `${(size / GB / s).toFixed(2)} GB/s`,
      });
    }
    await source.close();
    rmSync(path);
  }
  return rows;
}

/** Merge LoRA into `layers` x (q, k, v, o) 4096x4096 fp16 matrices, one at a time as a converter would. */
async function mergeBench(dir: string, layers: number): Promise<Row[]> {
  const base = join(dir, 'base.bin');
  const adapter = join(dir, 'adapter.bin');
  const names = Array.from({ length: layers }, (_, l) =>
    ['q', 'k', 'v', 'o'].map((m) => `model.layers.${l}.self_attn.${m}_proj`),
  ).flat();
  const w = contiguous(names.map((n) => randomTensor(`${n}.weight`, 'F16', [HIDDEN, HIDDEN])));
  await writeTorchZip(base, w.storages, w.views, { archive: 'base' });
  const factors = names.flatMap((n) => [
    randomTensor(`base_model.model.${n}.lora_A.weight`, 'BF16', [LORA_R, HIDDEN]),
    randomTensor(`base_model.model.${n}.lora_B.weight`, 'BF16', [HIDDEN, LORA_R]),
  ]);
  const a = contiguous(factors);
  await writeTorchZip(adapter, a.storages, a.views, { archive: 'adapter' });
  const rssBefore = process.memoryUsage().rss;
  const peakBefore = process.resourceUsage().maxRSS * 1024;
  const rows: Row[] = [];
  for (const precision of ['fp16', 'fp32'] as const) {
    const merged = mergeLora(
      await openTensorFile(base),
      await openTensorFile(adapter),
      { r: LORA_R, alpha: LORA_ALPHA, targetModules: [] },
      precision,
    );
    const start = performance.now();
    for (const n of names) await merged.readBytes(`${n}.weight`);
    const seconds = (performance.now() - start) / 1000;
    const gflop = (names.length * 2 * HIDDEN * HIDDEN * LORA_R) / 1e9;
    rows.push({
      what: `LoRA merge ${precision}: ${names.length} x 4096x4096, r ${LORA_R}`,
      seconds,
      value: `${(seconds / names.length).toFixed(2)} s/matrix, ${(gflop / seconds).toFixed(2)} GFLOP/s`,
    });
    await merged.close();
  }
  const peak = process.resourceUsage().maxRSS * 1024;
  rows.push({
    what: 'LoRA merge: peak RSS (process)',
    seconds: 0,
    value: `${(peak / 2 ** 20).toFixed(0)} MiB (was ${(rssBefore / 2 ** 20).toFixed(0)} MiB before, peak ${(peakBefore / 2 ** 20).toFixed(0)} MiB)`,
  });
  rmSync(base);
  rmSync(adapter);
  return rows;
}

function option(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
}

export async function main(argv: string[]): Promise<void> {
  const gb = option(argv, 'gb', 3);
  const layers = option(argv, 'layers', 2);
  const dir = mkdtempSync(join(tmpdir(), 'cxr-bench-weights-'));
  try {
    // the merge runs first so its peak RSS is not the readers'
    const rows = [...(await mergeBench(dir, layers)), ...(await readBench(dir, gb))];
    if (argv.includes('--json')) {
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    const width = Math.max(...rows.map((r) => r.what.length)) + 2;
    for (const r of rows)
      process.stdout.write(`${r.what.padEnd(width)}${r.seconds.toFixed(2).padStart(8)} s  ${r.value}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
