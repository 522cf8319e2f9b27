import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CxrError } from '../../src/errors.js';
import { openTensorFile } from '../../src/weights/index.js';
import { PickleBuilder } from '../../src/weights/pickle-writer.js';
import { writeSafetensors, writeTorchZip } from '../../src/weights/write.js';
import { FIXTURES } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'cxr-weights-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ROUNDS = 150;

/** xorshift32: the same mutations on every run. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** Open and read everything; anything but success or a CxrError of kind input fails the test. */
async function openAndReadAll(path: string): Promise<'ok' | 'refused'> {
  try {
    const s = await openTensorFile(path);
    try {
      for (const t of s.list()) await s.readFloat32(t.name);
    } finally {
      await s.close();
    }
    return 'ok';
  } catch (e) {
    if (e instanceof CxrError && e.kind === 'input') return 'refused';
    throw e;
  }
}

function mutate(bytes: Uint8Array, random: () => number, region: [number, number]): Uint8Array {
  const out = bytes.slice();
  const flips = 1 + Math.floor(random() * 4);
  for (let i = 0; i < flips; i++) {
    const at = region[0] + Math.floor(random() * (region[1] - region[0]));
    out[at] = Math.floor(random() * 256);
  }
  return out;
}

describe('corrupted weight files give input errors, never crashes or hangs', () => {
  it('torch zip: random bytes changed in the pickle and the zip records', async () => {
    const original = readFileSync(join(FIXTURES, 'oracle/tiny-a/llava-rad/non_lora_trainables.bin'));
    const random = rng(12345);
    const pickleRegion: [number, number] = [0, 700];
    const recordsRegion: [number, number] = [original.length - 700, original.length];
    const outcomes = { ok: 0, refused: 0 };
    for (let i = 0; i < ROUNDS; i++) {
      const path = join(dir, `zip-${i}.bin`);
      writeFileSync(path, mutate(original, random, i % 2 ? pickleRegion : recordsRegion));
      outcomes[await openAndReadAll(path)]++;
    }
    expect(outcomes.refused).toBeGreaterThan(ROUNDS / 4); // the mutations did hit something
  });

  it('safetensors: random bytes changed in the header', async () => {
    const path = join(dir, 'base.safetensors');
    await writeSafetensors(path, [
      { name: 'a', dtype: 'F16', shape: [2, 3], data: new Uint8Array(12) },
      { name: 'b', dtype: 'BF16', shape: [4], data: new Uint8Array(8) },
    ]);
    const original = readFileSync(path);
    const random = rng(777);
    const outcomes = { ok: 0, refused: 0 };
    for (let i = 0; i < ROUNDS; i++) {
      const p = join(dir, `st-${i}.safetensors`);
      writeFileSync(p, mutate(original, random, [0, original.length - 20]));
      outcomes[await openAndReadAll(p)]++;
    }
    expect(outcomes.refused).toBeGreaterThan(ROUNDS / 4);
  });

  it('a pickle whose containers contain themselves, and one nested 100000 deep', async () => {
    // l = []; l.append(l); {'x': l}
    const cyclic = new PickleBuilder()
      .proto(2)
      .emptyDict()
      .str('x')
      .emptyList()
      .raw(0x71, 0, 0x68, 0)
      .append()
      .setItem()
      .stop();
    const deep = new PickleBuilder().proto(2).emptyDict().str('x');
    for (let i = 0; i < 100_000; i++) deep.emptyList();
    for (let i = 1; i < 100_000; i++) deep.append();
    deep.setItem().stop();
    for (const [name, pickle] of [
      ['cyclic', cyclic.bytes()],
      ['deep', deep.bytes()],
    ] as const) {
      const path = join(dir, `${name}.pt`);
      await writeTorchZip(path, [], [], { pickle });
      const s = await openTensorFile(path);
      expect(s.list()).toEqual([]);
      await s.close();
    }
  });
});
