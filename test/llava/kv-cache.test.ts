/**
 * The KV cache's reuse of released buffers: unit checks of the spare rule, and on tiny-a fp32 a prefill into a
 * reused (dirty) cache that gives bit-identical logits and decode steps to one into fresh buffers.
 */
import { describe, expect, it } from 'vitest';
import { KV_GROWTH, KvCaches, type KvState } from '../../src/llava/kv-cache.js';
import { floats, ids, manifest, useTinyASessions } from '../models/tiny-a.js';

const SHAPE = { layers: 2, heads: 2, headDim: 4 };

describe('KvCaches', () => {
  it('hands a released cache to the next sequence of about its size', () => {
    const kv = new KvCaches(SHAPE);
    const a = kv.create(100);
    const buffer = a.buffers[0]![0];
    kv.recycle(a);
    expect(a.released).toBe(true);
    const b = kv.create(90); // 10 positions of slack: reused, at its own capacity
    expect(b.buffers[0]![0]).toBe(buffer);
    expect([b.length, b.capacity]).toEqual([0, 100]);
    expect(kv.create(90).buffers[0]![0]).not.toBe(buffer); // the spare was taken
  });

  it('does not reuse a cache far larger than asked for, or one that may hold NaN', () => {
    const kv = new KvCaches(SHAPE);
    const big = kv.create(2000);
    const bigBuffer = big.buffers[0]![0];
    kv.recycle(big);
    expect(kv.create(100).capacity).toBe(100); // 1,900 masked positions on every run would cost more
    expect(kv.create(1900).buffers[0]![0]).toBe(bigBuffer);

    const poisoned: KvState = kv.create(100);
    const buffer = poisoned.buffers[0]![0];
    poisoned.finite = false;
    kv.recycle(poisoned);
    expect(kv.create(100).buffers[0]![0]).not.toBe(buffer);
  });

  it('widens its layout in place, then moves to larger buffers, keeping every cached entry', () => {
    const kv = new KvCaches(SHAPE);
    const s = kv.create(40, 4); // room for 40 positions, laid out for 4
    const keyLines = SHAPE.heads * SHAPE.headDim;
    // Entry (line, position) of layer l holds 1000 l + 100 line + position (values: per head, per position, per d).
    const rows = (l: number, at: number, count: number) => ({
      keys: Float32Array.from(
        { length: keyLines * count },
        (_, i) => 1000 * l + 100 * Math.floor(i / count) + at + (i % count),
      ),
      values: Float32Array.from(
        { length: SHAPE.heads * count * SHAPE.headDim },
        (_, i) =>
          1000 * l +
          100 * Math.floor(i / (count * SHAPE.headDim)) +
          at +
          (Math.floor(i / SHAPE.headDim) % count),
      ),
    });
    const write = (count: number, exact = false) => {
      kv.fit(s, s.length + count, exact);
      for (let l = 0; l < SHAPE.layers; l++) {
        const r = rows(l, s.length, count);
        kv.append(s, l, [r.keys, r.values], count);
      }
      s.length += count;
    };
    const check = () => {
      for (let l = 0; l < SHAPE.layers; l++) {
        const [keys, values] = kv.view(s, l) as [Float32Array, Float32Array];
        expect(keys.length).toBe(keyLines * s.capacity);
        for (let line = 0; line < keyLines; line++)
          for (let p = 0; p < s.length; p++)
            expect(keys[line * s.capacity + p]).toBe(1000 * l + 100 * line + p);
        for (let h = 0; h < SHAPE.heads; h++)
          for (let p = 0; p < s.length; p++)
            expect(values[(h * s.capacity + p) * SHAPE.headDim]).toBe(1000 * l + 100 * h + p);
      }
    };
    const buffer = s.buffers[0]![0];
    write(3);
    write(3); // 6 > 4: widened in place to 8
    expect([s.capacity, s.room]).toEqual([8, 40]);
    expect(s.buffers[0]![0]).toBe(buffer);
    check();
    write(5, true); // 11: exactly, for a prefill's next chunk
    expect(s.capacity).toBe(11);
    check();
    write(15); // 26: widened to 26 (more than double)
    expect(s.capacity).toBe(26);
    write(10); // 36: doubling is capped by the room
    expect(s.capacity).toBe(40);
    check();
    write(10); // 46 > room: new buffers with KV_GROWTH spare positions
    expect([s.capacity, s.room]).toEqual([46 + KV_GROWTH, 46 + KV_GROWTH]);
    expect(s.buffers[0]![0]).not.toBe(buffer);
    check();
  });

  it('keeps 8-bit keys with their scale and bias planes through widening and growth', () => {
    const kv = new KvCaches({ ...SHAPE, kvKeys: 'int8' });
    expect(kv.planes.map((p) => `${p.name}:${p.type}`)).toEqual([
      'key:int8',
      'key_scale:float32',
      'key_bias:float32',
      'value:float32',
    ]);
    const s = kv.create(12, 2);
    // Entry (line, position, k) of every plane holds (7 line + 3 position + k) mod 100: it fits int8.
    const entry = (line: number, p: number, k: number) => (7 * line + 3 * p + k) % 100;
    const write = (count: number, exact: boolean) => {
      kv.fit(s, s.length + count, exact);
      for (let l = 0; l < SHAPE.layers; l++) {
        const rows = kv.planes.map((plane) => {
          const n = plane.lines * count * plane.width;
          const data = plane.type === 'int8' ? new Int8Array(n) : new Float32Array(n);
          for (let i = 0; i < n; i++) {
            const line = Math.floor(i / (count * plane.width));
            data[i] = entry(line, s.length + (Math.floor(i / plane.width) % count), i % plane.width);
          }
          return data;
        });
        kv.append(s, l, rows, count);
      }
      s.length += count;
    };
    const check = () =>
      kv.planes.forEach((plane, p) => {
        const view = kv.view(s, 0)[p]!;
        expect(view.length).toBe(plane.lines * s.capacity * plane.width);
        for (let line = 0; line < plane.lines; line++)
          for (let pos = 0; pos < s.length; pos++)
            for (let k = 0; k < plane.width; k++)
              expect(view[(line * s.capacity + pos) * plane.width + k]).toBe(entry(line, pos, k));
      });
    write(2, true);
    write(3, true); // exactly 5, in place
    expect(s.capacity).toBe(5);
    check();
    write(9, false); // 14 > room 12: new buffers
    expect(s.capacity).toBe(14 + KV_GROWTH);
    expect(s.buffers[0]![0]).toBeInstanceOf(Int8Array);
    check();
    // Positions not yet written hold a bias of +inf (their scores become -inf: masked without a mask).
    const bias = kv.view(s, 1)[2]!;
    for (let line = 0; line < SHAPE.heads; line++)
      for (let pos = s.length; pos < s.capacity; pos++)
        expect(bias[line * s.capacity + pos]).toBe(Number.POSITIVE_INFINITY);
  });

  it('reserve allocates the spare ahead, zeroed', () => {
    const kv = new KvCaches(SHAPE);
    kv.reserve(64 + KV_GROWTH);
    const s = kv.create(64 + KV_GROWTH);
    expect(s.capacity).toBe(64 + KV_GROWTH);
    expect(s.buffers[0]![1]!.length).toBe(SHAPE.heads * SHAPE.headDim * s.capacity);
    expect(s.buffers[1]!.every((v) => v.every((x) => x === 0))).toBe(true);
  });
});

const floatKeys = useTinyASessions();
const int8Keys = useTinyASessions({ kvKeys: 'int8' });

describe.each([
  ['float32', floatKeys],
  ['int8 (unused positions masked by the cache)', int8Keys],
])('a reused cache on tiny-a, %s keys', (_, sessions) => {
  it('gives the same logits as clean buffers of its size, though it holds the previous sequence', async () => {
    // The longer prompt's released cache is reused for the shorter one (within the spare's slack).
    const byLength = [...manifest.cases].sort(
      (a, b) => ids(b.input_ids_file).length - ids(a.input_ids_file).length,
    );
    const [long, short] = [byLength[0]!, byLength.at(-1)!];
    expect(ids(long.input_ids_file)).not.toEqual(ids(short.input_ids_file));
    const lm = sessions().lm;
    const run = async (c: typeof long) => {
      const rows = await sessions().vision.encode(floats(c.pixel_values_file));
      const p = await lm.prefill(ids(c.input_ids_file), rows);
      const steps = [p.logits];
      for (const id of ids(c.generated_ids_file).slice(0, 3)) steps.push(await lm.step(p.state, id));
      return { state: p.state as KvState, steps };
    };
    const imageRows =
      (await sessions().vision.encode(floats(long.pixel_values_file))).length / sessions().vision.hidden;
    lm.reserve(ids(long.input_ids_file).length - 1 + imageRows + KV_GROWTH); // zeroed, the long one's size
    const clean = await run(short);
    const previous = await run(long);
    expect(previous.state.capacity).toBe(clean.state.capacity);
    const buffer = previous.state.buffers[0]![0];
    lm.release(previous.state);
    const reused = await run(short);
    expect(reused.state.buffers[0]![0]).toBe(buffer);
    for (const [i, logits] of reused.steps.entries()) expect(logits).toEqual(clean.steps[i]);
    lm.release(reused.state);
    lm.release(clean.state);
  });
});
