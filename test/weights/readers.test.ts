import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DTYPE_BYTES,
  detectFormat,
  openModelDir,
  openSafetensors,
  openTensorFile,
  type TensorDtype,
  toFloat32,
} from '../../src/weights/index.js';
import {
  type StorageToWrite,
  type TensorToWrite,
  writeSafetensors,
  writeTorchLegacy,
  writeTorchZip,
} from '../../src/weights/write.js';

const dir = mkdtempSync(join(tmpdir(), 'cxr-weights-readers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Values chosen to be exact in every dtype they are written in. */
const VALUES = [0, 1, -2, 0.5, 3.25, -1024, 7, 0.125];

function encode(dtype: TensorDtype, values: number[], littleEndian = true): Uint8Array {
  const n = values.length;
  const out = new Uint8Array(n * DTYPE_BYTES[dtype]);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => {
    const at = i * DTYPE_BYTES[dtype];
    if (dtype === 'F32') v.setFloat32(at, x, littleEndian);
    else if (dtype === 'F64') v.setFloat64(at, x, littleEndian);
    else if (dtype === 'BF16') {
      const f = new DataView(new ArrayBuffer(4));
      f.setFloat32(0, x);
      v.setUint16(at, f.getUint16(0), littleEndian);
    } else if (dtype === 'F16') v.setUint16(at, halfBits(x), littleEndian);
    else if (dtype === 'I64') v.setBigInt64(at, BigInt(x), littleEndian);
    else if (dtype === 'I32') v.setInt32(at, x, littleEndian);
    else if (dtype === 'I16') v.setInt16(at, x, littleEndian);
    else if (dtype === 'I8') v.setInt8(at, x);
    else v.setUint8(at, x);
  });
  return out;
}

/** fp16 bits of a value exactly representable in fp16 (test-side reference, by search). */
function halfBits(x: number): number {
  if (x === 0) return 0;
  const sign = x < 0 ? 0x8000 : 0;
  const a = Math.abs(x);
  const e = Math.floor(Math.log2(a));
  return sign | ((e + 15) << 10) | Math.round((a / 2 ** e - 1) * 1024);
}

const FLOAT_DTYPES: TensorDtype[] = ['F32', 'F16', 'BF16', 'F64'];
const INT_DTYPES: [TensorDtype, number[]][] = [
  ['I64', [0, 1, -2, 2 ** 40, -7, 3, 9, 11]],
  ['I32', [0, 1, -2, 2 ** 30, -7, 3, 9, 11]],
  ['U8', [0, 1, 2, 255, 7, 3, 9, 11]],
  ['BOOL', [0, 1, 1, 0, 0, 1, 0, 1]],
];

function cases(): TensorToWrite[] {
  return [
    ...FLOAT_DTYPES.map((d) => ({ name: `f.${d}`, dtype: d, shape: [2, 4], data: encode(d, VALUES) })),
    ...INT_DTYPES.map(([d, v]) => ({ name: `i.${d}`, dtype: d, shape: [8], data: encode(d, v) })),
  ];
}

function expected(name: string): number[] {
  const d = name.split('.')[1] as TensorDtype;
  return name.startsWith('f.') ? VALUES : INT_DTYPES.find(([x]) => x === d)![1];
}

describe.each(['safetensors', 'torch-zip', 'torch-legacy'] as const)('%s reader', (format) => {
  const path = join(dir, `all-dtypes.${format}`);
  const write = async () => {
    const tensors = cases();
    if (format === 'safetensors') return writeSafetensors(path, tensors);
    const storages: StorageToWrite[] = tensors.map((t) => ({
      key: t.name,
      dtype: t.dtype,
      numel: 8,
      data: t.data,
    }));
    const views = tensors.map((t) => ({ name: t.name, storage: t.name, shape: t.shape }));
    return format === 'torch-zip'
      ? writeTorchZip(path, storages, views)
      : writeTorchLegacy(path, storages, views);
  };

  it('detects the format from the bytes and reads every dtype exactly', async () => {
    await write();
    expect(await detectFormat(path)).toBe(format);
    const s = await openTensorFile(path);
    try {
      expect(s.list().map((t) => t.name)).toEqual(cases().map((t) => t.name));
      for (const t of cases()) {
        expect(s.info(t.name)).toEqual({ name: t.name, dtype: t.dtype, shape: t.shape });
        expect(Array.from(await s.readFloat32(t.name)), t.name).toEqual(expected(t.name));
        expect(Buffer.compare(await s.readBytes(t.name), t.data as Uint8Array), t.name).toBe(0);
      }
    } finally {
      await s.close();
    }
  });
});

const storage = (key: string, dtype: TensorDtype, values: number[], le = true): StorageToWrite => ({
  key,
  dtype,
  numel: values.length,
  data: encode(dtype, values, le),
});

describe('torch views and byte order', () => {
  const seq = Array.from({ length: 12 }, (_, i) => i);

  it.each(['zip', 'legacy'] as const)(
    'resolves offsets, strides (transposes) and shared storages (%s)',
    async (kind) => {
      const path = join(dir, `views.${kind}`);
      const views = [
        { name: 'whole', storage: 's', shape: [3, 4] },
        { name: 'transposed', storage: 's', shape: [4, 3], stride: [1, 4] },
        { name: 'row2', storage: 's', offset: 8, shape: [4] },
        { name: 'column1', storage: 's', offset: 1, shape: [3], stride: [4] },
        { name: 'broadcast', storage: 's', offset: 5, shape: [2, 3], stride: [0, 1] },
        { name: 'tied', storage: 's', shape: [3, 4] },
      ];
      const storages = [storage('s', 'F16', seq)];
      await (kind === 'zip' ? writeTorchZip(path, storages, views) : writeTorchLegacy(path, storages, views));
      const s = await openTensorFile(path);
      try {
        expect(Array.from(await s.readFloat32('whole'))).toEqual(seq);
        expect(Array.from(await s.readFloat32('transposed'))).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
        expect(Array.from(await s.readFloat32('row2'))).toEqual([8, 9, 10, 11]);
        expect(Array.from(await s.readFloat32('column1'))).toEqual([1, 5, 9]);
        expect(Array.from(await s.readFloat32('broadcast'))).toEqual([5, 6, 7, 5, 6, 7]);
        expect(Array.from(await s.readFloat32('tied'))).toEqual(seq);
      } finally {
        await s.close();
      }
    },
  );

  it('byte-swaps a checkpoint whose byteorder marker says big-endian', async () => {
    const path = join(dir, 'big.pt');
    const storages = [storage('0', 'F32', VALUES, false), storage('1', 'I64', [1, -2, 2 ** 40], false)];
    const views = [
      { name: 'f', storage: '0', shape: [8] },
      { name: 'i', storage: '1', shape: [3] },
    ];
    await writeTorchZip(path, storages, views, { byteorder: 'big' });
    const s = await openTensorFile(path);
    try {
      expect(Array.from(await s.readFloat32('f'))).toEqual(VALUES);
      expect(Array.from(await s.readFloat32('i'))).toEqual([1, -2, 2 ** 40]);
      expect(Buffer.compare(await s.readBytes('f'), encode('F32', VALUES))).toBe(0); // little-endian out
    } finally {
      await s.close();
    }
    const legacy = join(dir, 'big.legacy');
    await writeTorchLegacy(legacy, storages, views, false);
    const l = await openTensorFile(legacy);
    expect(Array.from(await l.readFloat32('f'))).toEqual(VALUES);
    await l.close();
  });
});

describe('offsets beyond 2 and 4 GiB (sparse files)', () => {
  const HOLE = 4.5 * 2 ** 30;

  it('safetensors: a tensor stored after a 4.5 GiB tensor', async () => {
    const path = join(dir, 'huge.safetensors');
    await writeSafetensors(path, [
      { name: 'hole', dtype: 'F32', shape: [HOLE / 4], data: { zeros: HOLE } },
      { name: 'tail', dtype: 'BF16', shape: [8], data: encode('BF16', VALUES) },
    ]);
    const before = process.memoryUsage().rss;
    const s = await openSafetensors(path);
    try {
      expect(s.info('hole').shape).toEqual([HOLE / 4]);
      expect(Array.from(await s.readFloat32('tail'))).toEqual(VALUES);
      expect(process.memoryUsage().rss - before).toBeLessThan(200 * 2 ** 20); // nothing read whole
    } finally {
      await s.close();
    }
  });

  it('torch zip: ZIP64 entries past 4 GiB and a view at a 4 GiB storage offset', async () => {
    const path = join(dir, 'huge.pt');
    const storages: StorageToWrite[] = [
      { key: '0', dtype: 'F32', numel: HOLE / 4 + 8, data: { zeros: HOLE + 32 } },
      storage('1', 'F16', VALUES),
    ];
    const views = [
      { name: 'far', storage: '0', offset: HOLE / 4, shape: [8] },
      { name: 'after', storage: '1', shape: [2, 4] },
    ];
    await writeTorchZip(path, storages, views);
    const s = await openTensorFile(path);
    try {
      expect(Array.from(await s.readFloat32('far'))).toEqual(new Array(8).fill(0));
      expect(Array.from(await s.readFloat32('after'))).toEqual(VALUES);
    } finally {
      await s.close();
    }
  });
});

describe('fp16 / bf16 conversion', () => {
  it('bf16 upcast is the top half of the float32 bits', () => {
    const bits = new Uint16Array([0x3f80, 0xbf80, 0x7f80, 0x0001, 0x4049]);
    const f = toFloat32(new Uint8Array(bits.buffer), 'BF16');
    expect(Array.from(f.slice(0, 3))).toEqual([1, -1, Number.POSITIVE_INFINITY]);
    expect(f[3]).toBe(2 ** -133); // bf16 subnormal
    expect(f[4]).toBe(3.140625);
  });
});

describe('model folders', () => {
  it('a safetensors shard set through model.safetensors.index.json, preferred over pytorch files', async () => {
    const folder = join(dir, 'hf-model');
    mkdirSync(folder);
    await writeSafetensors(join(folder, 'model-00001-of-00002.safetensors'), [
      { name: 'a', dtype: 'F16', shape: [2, 4], data: encode('F16', VALUES) },
    ]);
    await writeSafetensors(join(folder, 'model-00002-of-00002.safetensors'), [
      { name: 'b', dtype: 'BF16', shape: [8], data: encode('BF16', VALUES) },
    ]);
    const weightMap = { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' };
    writeFileSync(join(folder, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
    writeFileSync(join(folder, 'pytorch_model.bin'), 'not read');
    const s = await openModelDir(folder);
    try {
      expect(s.origin).toBe(join(folder, 'model.safetensors.index.json'));
      expect(Array.from(await s.readFloat32('a'))).toEqual(VALUES);
      expect(Array.from(await s.readFloat32('b'))).toEqual(VALUES);
    } finally {
      await s.close();
    }
  });
});
