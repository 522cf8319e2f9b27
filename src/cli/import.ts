import { resolve } from 'node:path';
import { inputError } from '../errors.js';
import { BUNDLE_DTYPES, type BundleDtype, importBundle } from '../llava/index.js';
import type { KvKeys } from '../models/index.js';
import type { Int4BlockSize } from '../onnx/index.js';
import { type Command, flag, int, str } from './command.js';
import { withPullHint } from './pull-hint.js';

/** --int4-block N (checked against the supported sizes by importBundle). */
function int4Block(args: Parameters<Command['run']>[0]): { int4BlockSize?: Int4BlockSize } {
  if (str(args, 'int4-block') === undefined) return {};
  return { int4BlockSize: int(args, 'int4-block', 0) as Int4BlockSize };
}

export const importCommand: Command = {
  name: 'import',
  summary:
    'Turn the released LLaVA-Rad + Vicuna files into a cxr model bundle (ONNX graphs, tokenizer, manifest).',
  usage:
    '--llava DIR --base DIR --out BUNDLE [--dtype fp32|fp16|int8|int4] [--int4-block 32|64|128] [--kv-keys float32|int8] [--force]',
  options: {
    llava: { type: 'string', valueName: 'DIR', description: 'the microsoft/llava-rad folder' },
    base: { type: 'string', valueName: 'DIR', description: 'the lmsys/vicuna-7b-v1.5 folder' },
    out: { type: 'string', valueName: 'BUNDLE', description: 'the bundle folder to create' },
    dtype: {
      type: 'string',
      valueName: 'DTYPE',
      description: 'decoder weights: fp32 | fp16 | int8 | int4 (vision: fp32 for fp32, else fp16)',
      default: 'fp32',
    },
    'int4-block': {
      type: 'string',
      valueName: 'N',
      description: `int4 block length: 32 most accurate, 64 (default) as accurate as llama.cpp Q4_0, 128 fastest`,
    },
    'kv-keys': {
      type: 'string',
      valueName: 'TYPE',
      description:
        'cached keys: int8 (default for int8/int4: a quarter of the bytes each decode step reads) | float32 (default for fp32/fp16)',
    },
    force: { type: 'boolean', description: 'replace an existing bundle' },
  },
  details: `The bundle is written into a temporary folder beside BUNDLE and renamed into place when complete.
Tensors are read, converted and written one at a time. manifest.json records the size and sha256 of every
file; cxr findings --model BUNDLE verifies them before loading.`,
  async run(args, io) {
    const llava = str(args, 'llava');
    const base = str(args, 'base');
    const out = str(args, 'out');
    if (!llava || !base || !out || args.positionals.length > 0) {
      io.stderr('cxr import: give --llava DIR --base DIR --out BUNDLE (see --help)\n');
      return 2;
    }
    const dtype = str(args, 'dtype') ?? 'fp32';
    if (!(BUNDLE_DTYPES as readonly string[]).includes(dtype))
      throw inputError('cli.bad_option', 'unknown dtype', {
        field: '--dtype',
        expected: BUNDLE_DTYPES.join(', '),
        found: dtype,
      });
    const started = performance.now();
    const manifest = await withPullHint(() =>
      importBundle({
        llavaDir: resolve(io.cwd, llava),
        baseDir: resolve(io.cwd, base),
        out: resolve(io.cwd, out),
        dtype: dtype as BundleDtype,
        ...int4Block(args),
        ...(str(args, 'kv-keys') === undefined ? {} : { kvKeys: str(args, 'kv-keys') as KvKeys }),
        force: flag(args, 'force'),
        onStage: (stage) => io.stderr(`cxr import: ${stage}...\n`),
      }),
    );
    const files = Object.values(manifest.files);
    const mib = files.reduce((a, f) => a + f.bytes, 0) / 2 ** 20;
    const seconds = (performance.now() - started) / 1000;
    io.stdout(
      `${resolve(io.cwd, out)}: ${dtype} bundle, ${files.length} files, ${mib.toFixed(1)} MiB (${seconds.toFixed(1)} s)\n`,
    );
    return 0;
  },
};
