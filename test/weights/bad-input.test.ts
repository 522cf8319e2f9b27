import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CxrError } from '../../src/errors.js';
import { readNpy } from '../../src/util/npy.js';
import { openLlavaRad, openSafetensors, openSharded, openTensorFile } from '../../src/weights/index.js';
import { PickleBuilder } from '../../src/weights/pickle-writer.js';
import {
  type StorageToWrite,
  type TensorToWrite,
  type ViewToWrite,
  writeSafetensors,
  writeTorchZip,
} from '../../src/weights/write.js';
import { FIXTURES } from '../helpers.js';

const TINY = join(FIXTURES, 'oracle/tiny-a');
const dir = mkdtempSync(join(tmpdir(), 'cxr-weights-bad-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The promise rejects with a CxrError of `code` whose message names every string in `names`. */
async function rejects(p: Promise<unknown>, code: string, ...names: string[]): Promise<CxrError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CxrError);
  const err = e as CxrError;
  expect(err.code, err.message).toBe(code);
  expect(err.kind).toBe('input');
  for (const n of names) expect(err.message).toContain(n);
  return err;
}

function safetensorsBytes(header: object, data = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors bad input', () => {
  it('a header length that lies', async () => {
    const path = join(dir, 'lying.safetensors');
    const bytes = safetensorsBytes(
      { t: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } },
      new Uint8Array(4),
    );
    new DataView(bytes.buffer).setBigUint64(0, 1n << 40n, true);
    writeFileSync(path, bytes);
    await rejects(openSafetensors(path), 'weights.bad_header', path, 'header length is impossible');
  });

  it('tensor offsets past the end of the file name the tensor', async () => {
    const path = join(dir, 'past-end.safetensors');
    const header = {
      ok: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      far: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    };
    writeFileSync(path, safetensorsBytes(header, new Uint8Array(8)));
    await rejects(openSafetensors(path), 'weights.bad_tensor', path, 'far', 'past the end');
  });

  it('offsets that disagree with shape and dtype', async () => {
    const path = join(dir, 'size.safetensors');
    writeFileSync(
      path,
      safetensorsBytes({ w: { dtype: 'F16', shape: [4], data_offsets: [0, 4] } }, new Uint8Array(8)),
    );
    await rejects(openSafetensors(path), 'weights.bad_tensor', 'w', '8 bytes');
  });

  it('an unknown dtype names the tensor and the dtype', async () => {
    const path = join(dir, 'dtype.safetensors');
    writeFileSync(
      path,
      safetensorsBytes({ q: { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 4] } }, new Uint8Array(4)),
    );
    await rejects(openSafetensors(path), 'weights.unknown_dtype', path, 'q', 'F8_E4M3');
  });

  it('a header that is not JSON, and a file too short for a header', async () => {
    const path = join(dir, 'garbage.safetensors');
    const bytes = safetensorsBytes({});
    bytes.set(new TextEncoder().encode('{x'), 8);
    writeFileSync(path, bytes);
    await rejects(openSafetensors(path), 'weights.bad_header', path);
    writeFileSync(path, new Uint8Array(3));
    await rejects(openSafetensors(path), 'weights.truncated', path);
  });
});

describe('torch zip bad input', () => {
  const adapter = join(TINY, 'llava-rad/adapter_model.bin');

  it.each([0.5, 0.999])('a truncated zip (cut at %s of its length)', async (fraction) => {
    const bytes = readFileSync(adapter);
    const path = join(dir, `truncated-${fraction}.bin`);
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length * fraction)));
    await rejects(openTensorFile(path), 'weights.bad_zip', path, 'truncated');
  });

  it('a storage shorter than its tensor names the tensor', async () => {
    const path = join(dir, 'short-storage.pt');
    await writeTorchZip(
      path,
      [{ key: '0', dtype: 'F32', numel: 16, data: new Uint8Array(8) }],
      [{ name: 'layer.weight', storage: '0', shape: [4, 4] }],
    );
    await rejects(
      openTensorFile(path),
      'weights.bad_tensor',
      path,
      'layer.weight',
      'shorter than its declared size',
    );
  });

  it('a view past the end of its storage names the tensor', async () => {
    const path = join(dir, 'view-past.pt');
    await writeTorchZip(
      path,
      [{ key: '0', dtype: 'F16', numel: 4, data: new Uint8Array(8) }],
      [{ name: 'v', storage: '0', offset: 2, shape: [4] }],
    );
    await rejects(openTensorFile(path), 'weights.bad_tensor', 'v', 'past the end of its storage');
  });

  it('an unknown storage type is refused as unsafe', async () => {
    const pickle = new PickleBuilder()
      .proto(2)
      .emptyDict()
      .str('x')
      .global('torch', 'ComplexFloatStorage')
      .setItem()
      .stop();
    const path = join(dir, 'complex.pt');
    await writeTorchZip(path, [], [], { pickle: pickle.bytes() });
    await rejects(openTensorFile(path), 'weights.unsafe_pickle', 'unsafe pickle: torch.ComplexFloatStorage');
  });

  it('an unknown byte order marker', async () => {
    const path = join(dir, 'order.pt');
    await writeTorchZip(path, [], [], { byteorder: 'middle' as 'big' });
    await rejects(openTensorFile(path), 'weights.bad_zip', 'byteorder', 'middle');
  });
});

describe('malicious pickles: refused, nothing runs', () => {
  const marker = join(dir, 'pwned');
  const command = `touch ${marker}`;
  /** `callable(command)` through REDUCE. */
  const call = (p: PickleBuilder) => p.mark().str(command).tuple().reduce();
  const cases: [string, string, Uint8Array][] = [
    [
      'GLOBAL os.system',
      'os.system',
      call(new PickleBuilder().proto(2).global('os', 'system')).stop().bytes(),
    ],
    [
      'GLOBAL posix.system',
      'posix.system',
      call(new PickleBuilder().proto(2).global('posix', 'system')).stop().bytes(),
    ],
    [
      'REDUCE through builtins.eval (STACK_GLOBAL)',
      'builtins.eval',
      call(new PickleBuilder().proto(4).stackGlobal('builtins', 'eval')).stop().bytes(),
    ],
    [
      'subprocess.Popen',
      'subprocess.Popen',
      new PickleBuilder()
        .proto(2)
        .global('subprocess', 'Popen')
        .mark()
        .mark()
        .str('touch')
        .str(marker)
        .tuple()
        .tuple()
        .reduce()
        .stop()
        .bytes(),
    ],
    [
      'nested in a list inside the state dict',
      'os.system',
      call(
        new PickleBuilder()
          .proto(2)
          .emptyDict()
          .str('w')
          .emptyList()
          .mark()
          .emptyList()
          .global('os', 'system'),
      )
        .append()
        .appends()
        .setItem()
        .stop()
        .bytes(),
    ],
    [
      'hidden behind an allowed tensor rebuild',
      'builtins.getattr',
      new PickleBuilder()
        .proto(2)
        .global('torch._utils', '_rebuild_tensor_v2')
        .global('builtins', 'getattr')
        .stop()
        .bytes(),
    ],
    [
      'INST opcode',
      'os.system',
      new PickleBuilder()
        .proto(0)
        .mark()
        .str(command)
        .raw(0x69, ...[...'os\nsystem\n'].map((c) => c.charCodeAt(0)))
        .stop()
        .bytes(),
    ],
    [
      'legacy storage loader',
      'torch.storage._load_from_bytes',
      call(new PickleBuilder().proto(2).global('torch.storage', '_load_from_bytes')).stop().bytes(),
    ],
  ];

  it.each(cases)('%s', async (label, global, pickle) => {
    const path = join(dir, `evil-${label.replace(/\W+/g, '_')}.pt`);
    await writeTorchZip(path, [], [], { pickle });
    await rejects(openTensorFile(path), 'weights.unsafe_pickle', path, `unsafe pickle: ${global}`);
    expect(existsSync(marker)).toBe(false);
  });

  it('a REDUCE whose callable is not an allow-listed global', async () => {
    const pickle = new PickleBuilder()
      .proto(2)
      .str('os.system')
      .mark()
      .str(command)
      .tuple()
      .reduce()
      .stop()
      .bytes();
    const path = join(dir, 'evil-string-call.pt');
    await writeTorchZip(path, [], [], { pickle });
    await rejects(
      openTensorFile(path),
      'weights.unsafe_pickle',
      'unsafe pickle: call of a non-allow-listed string',
    );
  });
});

describe('shards and LLaVA-Rad layout', () => {
  it('a missing shard names the index, the shard and a tensor in it', async () => {
    const sharded = join(dir, 'sharded');
    mkdirSync(sharded);
    const src = join(TINY, 'vicuna-7b-v1.5-sharded');
    copyFileSync(join(src, 'pytorch_model.bin.index.json'), join(sharded, 'pytorch_model.bin.index.json'));
    symlinkSync(
      join(src, 'pytorch_model-00001-of-00002.bin'),
      join(sharded, 'pytorch_model-00001-of-00002.bin'),
    );
    const index = join(sharded, 'pytorch_model.bin.index.json');
    await rejects(
      openSharded(index),
      'weights.missing_shard',
      index,
      'pytorch_model-00002-of-00002.bin',
      'lm_head.weight',
    );
  });

  /** A copy of tiny-a's llava-rad folder (links) with one file replaced. */
  function llavaWith(name: string, replace: (path: string) => Promise<void> | void): Promise<string> {
    const out = mkdtempSync(join(dir, 'llava-'));
    const src = join(TINY, 'llava-rad');
    for (const f of [
      'config.json',
      'adapter_config.json',
      'adapter_model.bin',
      'non_lora_trainables.bin',
      'biomedclipcxr_518.json',
      'biomedclipcxr_518_checkpoint.pt',
    ]) {
      if (f !== name) symlinkSync(join(src, f), join(out, f));
    }
    return Promise.resolve(replace(join(out, name))).then(() => out);
  }

  it('a LoRA whose shapes do not fit the base names the adapter tensor and both shapes', async () => {
    const adapter = await openTensorFile(join(TINY, 'llava-rad/adapter_model.bin'));
    const tensors = await Promise.all(
      adapter.list().map(async (t) => {
        const data = await adapter.readBytes(t.name);
        // swap A's dimensions for layer 1 k_proj: [r, in] becomes [in, r]
        const shape = t.name.endsWith('layers.1.self_attn.k_proj.lora_A.weight')
          ? [...t.shape].reverse()
          : t.shape;
        return { ...t, shape, data };
      }),
    );
    await adapter.close();
    const llava = await llavaWith('adapter_model.bin', (p) => writeTorchZip(p, ...toStorages(tensors)));
    const e = await rejects(
      openLlavaRad({ llavaDir: llava, baseDir: join(TINY, 'vicuna-7b-v1.5') }),
      'weights.lora_mismatch',
      join(llava, 'adapter_model.bin'),
      'base_model.model.model.layers.1.self_attn.k_proj.lora_A.weight',
    );
    expect(e.expected).toContain('[4, 128]');
    expect(e.found).toBe('[128,4]');
  });

  it('an adapter saved as safetensors (newer PEFT) merges to the same golden q_proj', async () => {
    const adapter = await openTensorFile(join(TINY, 'llava-rad/adapter_model.bin'));
    const tensors = await Promise.all(
      adapter.list().map(async (t) => ({ ...t, data: await adapter.readBytes(t.name) })),
    );
    await adapter.close();
    const llava = await llavaWith('adapter_model.bin', () => {});
    await writeSafetensors(join(llava, 'adapter_model.safetensors'), tensors);
    const w = await openLlavaRad({ llavaDir: llava, baseDir: join(TINY, 'vicuna-7b-v1.5') });
    const q = await w.language.readFloat32('model.layers.0.self_attn.q_proj.weight');
    await w.close();
    const golden = readNpy(join(TINY, 'golden/merged/layer0_q_proj_merged_fp16.npy')).data as Float32Array;
    expect(q.every((v, i) => v === golden[i])).toBe(true);
  });

  it('a projector that does not fit config.json names the tensor and the config fields', async () => {
    const llava = await llavaWith('config.json', (p) => {
      const c = JSON.parse(readFileSync(join(TINY, 'llava-rad/config.json'), 'utf8'));
      writeFileSync(p, JSON.stringify({ ...c, mm_hidden_size: 32 }));
    });
    const e = await rejects(
      openLlavaRad({ llavaDir: llava, baseDir: join(TINY, 'vicuna-7b-v1.5') }),
      'weights.shape_mismatch',
      '0.weight',
    );
    expect(e.expected).toBe('[128, 32] (hidden_size, mm_hidden_size)');
    expect(e.found).toBe('[128, 64]');
  });

  it('a config field of the wrong type names the file and key', async () => {
    const llava = await llavaWith('adapter_config.json', (p) =>
      writeFileSync(p, JSON.stringify({ r: 'four', lora_alpha: 8, target_modules: [] })),
    );
    await rejects(
      openLlavaRad({ llavaDir: llava, baseDir: join(TINY, 'vicuna-7b-v1.5') }),
      'weights.bad_config',
      'adapter_config.json',
      'r',
      'an integer',
    );
  });

  it('a missing vision checkpoint names the file', async () => {
    const llava = await llavaWith('biomedclipcxr_518_checkpoint.pt', () => {});
    await rejects(
      openLlavaRad({ llavaDir: llava, baseDir: join(TINY, 'vicuna-7b-v1.5') }),
      'weights.missing_file',
      'biomedclipcxr_518_checkpoint.pt',
    );
  });

  it('safetensors with a tensor name the index does not place', async () => {
    const path = join(dir, 'one.safetensors');
    await writeSafetensors(path, [{ name: 'a', dtype: 'F32', shape: [1], data: new Uint8Array(4) }]);
    const index = join(dir, 'model.safetensors.index.json');
    writeFileSync(index, JSON.stringify({ weight_map: { a: 'one.safetensors', b: 'one.safetensors' } }));
    await rejects(openSharded(index), 'weights.missing_tensor', 'one.safetensors', 'b');
  });
});

function toStorages(tensors: TensorToWrite[]): [StorageToWrite[], ViewToWrite[]] {
  return [
    tensors.map((t, i) => ({
      key: String(i),
      dtype: t.dtype,
      numel: t.shape.reduce((a, b) => a * b, 1),
      data: t.data,
    })),
    tensors.map((t, i) => ({ name: t.name, storage: String(i), shape: t.shape })),
  ];
}
