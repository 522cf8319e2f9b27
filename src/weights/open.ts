/**
 * Open any supported weight file, or a shard set through its index, by looking at the bytes
 * (not the extension): zip -> torch.save archive, legacy pickle magic -> old torch.save,
 * otherwise safetensors.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { inputError } from '../errors.js';
import { RandomAccessFile } from './file.js';
import { openSafetensors } from './safetensors.js';
import { EntrySource, entriesOf, type TensorEntry } from './source.js';
import { openTorchZip, type TorchLoadOptions } from './torch.js';
import { openTorchLegacy } from './torch-legacy.js';
import type { TensorSource } from './types.js';

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
/** A pickle opcode PROTO: the first byte of a legacy (pre-1.6) torch.save file. */
const PICKLE_PROTO = 0x80;

export type WeightFormat = 'torch-zip' | 'torch-legacy' | 'safetensors';

export async function detectFormat(path: string): Promise<WeightFormat> {
  const f = await RandomAccessFile.open(path);
  try {
    const head = await f.read(0, Math.min(4, f.size), 'file signature');
    if (ZIP_MAGIC.every((b, i) => head[i] === b)) return 'torch-zip';
    if (head[0] === PICKLE_PROTO) return 'torch-legacy';
    return 'safetensors';
  } finally {
    await f.close();
  }
}

/** One weight file of any supported format. `key` selects a sub-dict of a torch checkpoint. */
export async function openTensorFile(path: string, opts: TorchLoadOptions = {}): Promise<TensorSource> {
  switch (await detectFormat(path)) {
    case 'torch-zip':
      return openTorchZip(path, opts);
    case 'torch-legacy':
      return openTorchLegacy(path, opts);
    case 'safetensors':
      return openSafetensors(path);
  }
}

/**
 * A sharded checkpoint through its index (`pytorch_model.bin.index.json` or
 * `model.safetensors.index.json`): every shard is opened (index only) and each tensor is served
 * from the shard the weight map names.
 */
export async function openSharded(indexPath: string): Promise<TensorSource> {
  const weightMap = await readWeightMap(indexPath);
  const shardNames = [...new Set(weightMap.values())];
  const shards = new Map<string, TensorSource>();
  const closeAll = async () => {
    await Promise.all([...shards.values()].map((s) => s.close()));
  };
  try {
    for (const shard of shardNames) {
      const path = join(dirname(indexPath), shard);
      const firstTensor = [...weightMap].find(([, s]) => s === shard)![0];
      if (!(await exists(path))) {
        throw inputError('weights.missing_shard', `shard ${shard} named by the index is missing`, {
          file: indexPath,
          field: firstTensor,
          expected: path,
        });
      }
      shards.set(shard, await openTensorFile(path));
    }
    const entries = new Map<string, TensorEntry>();
    for (const [name, shard] of weightMap) {
      const entry = entriesOf(shards.get(shard)!).get(name);
      if (!entry) {
        throw inputError('weights.missing_tensor', 'the index places this tensor in a shard that lacks it', {
          file: join(dirname(indexPath), shard),
          field: name,
        });
      }
      entries.set(name, entry);
    }
    return new EntrySource(indexPath, entries, closeAll);
  } catch (e) {
    await closeAll();
    throw e;
  }
}

async function readWeightMap(indexPath: string): Promise<Map<string, string>> {
  let index: { weight_map?: unknown };
  try {
    index = JSON.parse(await readFile(indexPath, 'utf8'));
  } catch (e) {
    throw inputError('weights.bad_index', 'cannot read the shard index as JSON', {
      file: indexPath,
      cause: e,
    });
  }
  const map = index?.weight_map;
  if (
    !map ||
    typeof map !== 'object' ||
    Object.values(map).some((v) => typeof v !== 'string' || v.includes('..'))
  ) {
    throw inputError('weights.bad_index', 'weight_map must map tensor names to shard file names', {
      file: indexPath,
      field: 'weight_map',
    });
  }
  return new Map(Object.entries(map as Record<string, string>));
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Weight file names a Hugging Face model folder may hold, in order of preference. */
const DIR_CANDIDATES = [
  { file: 'model.safetensors.index.json', sharded: true },
  { file: 'model.safetensors', sharded: false },
  { file: 'pytorch_model.bin.index.json', sharded: true },
  { file: 'pytorch_model.bin', sharded: false },
];

/** A Hugging Face model folder's weights: safetensors before PyTorch, single file or shard index. */
export async function openModelDir(dir: string): Promise<TensorSource> {
  for (const c of DIR_CANDIDATES) {
    const path = join(dir, c.file);
    if (await exists(path)) return c.sharded ? openSharded(path) : openTensorFile(path);
  }
  throw inputError('weights.missing_file', 'no model weights in folder', {
    file: dir,
    expected: DIR_CANDIDATES.map((c) => c.file).join(' or '),
  });
}
