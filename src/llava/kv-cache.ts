/**
 * The decoder's KV cache: per layer, one buffer per plane, handed to the decoder as inputs (wrapped, not copied):
 * keys [heads, headDim, capacity] (transposed, see models/llama.ts), float32 or int8 with per-position scale and
 * bias planes [heads, 1, capacity], and float32 values [heads, capacity, headDim]. Each run returns only the new
 * entries of every plane, which are written into the buffers at the current length; capacity grows in chunks, so
 * a decode step moves no cache data.
 *
 * Every run attends to the whole capacity (positions past the length are masked), so a prefill starts with a
 * small capacity inside buffers sized for the whole prompt and widens it in place after each chunk to exactly the
 * cached length (`fit`, exact), so that no chunk attends to a masked position: a 1,430-token prompt in 128-row chunks
 * attends to 25% fewer positions than with a doubling layout, for moving about 8,400 cached positions (5.6 GB at 7B
 * with int8 keys; 1% faster prefill, measured). The last chunk widens the layout to the whole room for decoding.
 *
 * Released buffers are kept as one spare set and reused by the next sequence of about the same size: at 7B a
 * 1,500-position cache is 1.6 GB, and fresh pages cost the first prefill that touches them about 2 s of page faults
 * on this machine kind. `reserve` allocates (and touches) the spare ahead, as llama.cpp sizes its cache when the
 * context is created.
 */
import type { KvKeys } from '../models/index.js';
import type { DecoderState } from './types.js';

/**
 * Rows added to a KV buffer when it fills. Every decode step attends over the whole capacity (the unused tail is
 * masked), so slack costs time and memory on every step (at 7B, 256 rows are 270 MB and 15% more attention reads
 * at a 1,430-token context), while a growth copies the cache once (about 1.8 GB at 7B, amortised over 64 steps).
 */
export const KV_GROWTH = 64;

/**
 * A spare set is reused for a sequence that needs at most this many positions fewer than it holds: every unused
 * position is attended to (masked) on every run.
 */
const SPARE_SLACK = 256;

type CacheBuffer = Float32Array | Int8Array;

/**
 * One plane of the cache: `lines` lines of `capacity` positions of `width` values (keys: heads * d lines of width
 * 1; key scales and biases: heads lines of width 1; values: heads lines of width d), fed as `past_<name>.<layer>`
 * and returned for the new positions as `<name>.<layer>`.
 */
export interface KvPlane {
  name: string;
  type: 'float32' | 'int8';
  lines: number;
  width: number;
  /** The value every position not yet written holds, when it matters (the key bias: +inf masks the position). */
  unused?: number;
}

export interface KvShape {
  layers: number;
  heads: number;
  headDim: number;
  /** Cached key storage (default float32). */
  kvKeys?: KvKeys;
}

/** The planes of a decoder's cache, in feed order. */
export function kvPlanes(shape: KvShape): KvPlane[] {
  const { heads, headDim } = shape;
  const keys: KvPlane = { name: 'key', type: 'float32', lines: heads * headDim, width: 1 };
  const values: KvPlane = { name: 'value', type: 'float32', lines: heads, width: headDim };
  if (shape.kvKeys !== 'int8') return [keys, values];
  const perPosition = (name: string): KvPlane => ({ name, type: 'float32', lines: heads, width: 1 });
  const bias: KvPlane = { ...perPosition('key_bias'), unused: Number.POSITIVE_INFINITY };
  return [{ ...keys, type: 'int8' }, perPosition('key_scale'), bias, values];
}

/** A plane's tensor dims at `positions`: [1, heads, lines / heads, positions] or [1, heads, positions, width]. */
export function planeDims(plane: KvPlane, heads: number, positions: number): number[] {
  return plane.width === 1 ? [1, heads, plane.lines / heads, positions] : [1, heads, positions, plane.width];
}

/** Feed and output names of a plane (models/llama.ts DECODER_IO: past_key.0, key_scale.0, ...). */
export const planeInput = (plane: KvPlane, layer: number) => `past_${plane.name}.${layer}`;
export const planeOutput = (plane: KvPlane, layer: number) => `${plane.name}.${layer}`;

/**
 * The per-sequence KV cache: `buffers[plane][layer]`, valid up to `length`. The buffers hold `room` positions per
 * line; the layout in use has `capacity` (<= room) positions per line.
 */
export class KvState implements DecoderState {
  released = false;
  /** False once a run gave non-finite logits: its buffers may hold NaN and are not reused. */
  finite = true;
  constructor(
    public length: number,
    public capacity: number,
    public buffers: CacheBuffer[][],
    public room = capacity,
  ) {}
}

export class KvCaches {
  readonly planes: KvPlane[];
  private spare: KvState | null = null;

  constructor(private readonly shape: KvShape) {
    this.planes = kvPlanes(shape);
  }

  /** Allocate and touch a spare cache of `capacity` positions now (the next sequence that fits takes it). */
  reserve(capacity: number): void {
    if (this.spare && this.spare.room >= capacity) return;
    this.spare = this.allocate(capacity);
    for (const buffer of this.spare.buffers.flat()) buffer.fill(0);
  }

  /**
   * An empty cache with room for at least `room` positions (the spare when it fits closely, else fresh buffers),
   * laid out for `capacity` of them (default: all its room).
   */
  create(room: number, capacity = Number.POSITIVE_INFINITY): KvState {
    const spare = this.spare;
    let state: KvState;
    if (spare && spare.room >= room && spare.room - room <= SPARE_SLACK) {
      this.spare = null;
      state = new KvState(0, spare.room, spare.buffers);
    } else {
      state = this.allocate(room);
    }
    state.capacity = Math.min(state.room, Math.max(1, capacity));
    this.markUnused(state, 0, state.capacity);
    return state;
  }

  /**
   * Make room for `positions` in the layout: widen it in place (to exactly `positions` when `exact`, else doubling
   * up to the room) or, past the room, move to larger buffers with KV_GROWTH spare positions.
   */
  fit(state: KvState, positions: number, exact = false): void {
    if (positions <= state.capacity) return;
    if (positions > state.room) {
      this.grow(state, positions + KV_GROWTH);
      return;
    }
    const capacity = exact ? positions : Math.min(state.room, Math.max(positions, 2 * state.capacity));
    this.planes.forEach((plane, p) => {
      for (const buffer of state.buffers[p]!) restride(buffer, plane, state.capacity, capacity, state.length);
    });
    state.capacity = capacity;
    this.markUnused(state, state.length, capacity);
  }

  /** Set positions [from, to) of every line of the planes with an `unused` value to it (in the layout in use). */
  private markUnused(state: KvState, from: number, to: number): void {
    this.planes.forEach((plane, p) => {
      if (plane.unused === undefined) return;
      for (const buffer of state.buffers[p]!) {
        for (let line = 0; line < plane.lines; line++) {
          const at = line * state.capacity * plane.width;
          buffer.fill(plane.unused, at + from * plane.width, at + to * plane.width);
        }
      }
    });
  }

  /** One zero position of a plane: the stand-in for an empty cache (zero-length tensors are not accepted everywhere). */
  emptyRow(plane: KvPlane): CacheBuffer {
    return newBuffer(plane, 1).fill(plane.unused ?? 0);
  }

  /** Layer `layer`'s buffer of every plane in the layout in use ([lines, capacity, width]). */
  view(state: KvState, layer: number): CacheBuffer[] {
    return this.planes.map((plane, p) =>
      state.buffers[p]![layer]!.subarray(0, plane.lines * state.capacity * plane.width),
    );
  }

  /** Give the state's buffers back (kept as the spare unless a larger one is held or they may hold NaN). */
  recycle(state: KvState): void {
    if (state.finite && (!this.spare || this.spare.room < state.room)) {
      this.spare = new KvState(0, state.room, state.buffers);
    }
    state.released = true;
    state.buffers = [];
  }

  copy(state: KvState): KvState {
    const buffers = state.buffers.map((layers) => layers.map((b) => b.slice()));
    const copy = new KvState(state.length, state.capacity, buffers, state.room);
    copy.finite = state.finite;
    return copy;
  }

  /** Write `count` new positions of layer `layer` (the decoder's outputs, one per plane) after the state's length. */
  append(state: KvState, layer: number, rows: readonly CacheBuffer[], count: number): void {
    this.planes.forEach((plane, p) => {
      append(state.buffers[p]![layer]!, rows[p]!, plane, state.capacity, state.length, count);
    });
  }

  /** Reallocate the buffers with more positions (the only time cached entries are copied). */
  grow(state: KvState, capacity: number): void {
    state.buffers = this.planes.map((plane, p) =>
      state.buffers[p]!.map((old) => {
        const next = newBuffer(plane, capacity);
        append(next, old, { ...plane, stride: state.capacity }, capacity, 0, state.length);
        return next;
      }),
    );
    state.capacity = capacity;
    state.room = capacity;
    this.markUnused(state, state.length, capacity);
  }

  private allocate(capacity: number): KvState {
    const buffers = this.planes.map((plane) =>
      Array.from({ length: this.shape.layers }, () => newBuffer(plane, capacity)),
    );
    return new KvState(0, capacity, buffers);
  }
}

function newBuffer(plane: KvPlane, capacity: number): CacheBuffer {
  const size = plane.lines * capacity * plane.width;
  return plane.type === 'int8' ? new Int8Array(size) : new Float32Array(size);
}

/**
 * Widen a buffer's layout in place from `from` to `to` positions per line, keeping the first `length` of each.
 * Lines move from the last to the first: each lands at or after where it was, never on a line not yet moved.
 */
function restride(buffer: CacheBuffer, l: KvPlane, from: number, to: number, length: number): void {
  for (let line = l.lines - 1; line > 0; line--) {
    const src = line * from * l.width;
    buffer.copyWithin(line * to * l.width, src, src + length * l.width);
  }
}

/**
 * Copy `count` positions per line from `src` into `dst` after position `at`. `stride` is the positions per line
 * of the source (default: the count being appended).
 */
function append(
  dst: CacheBuffer,
  src: CacheBuffer,
  l: KvPlane & { stride?: number },
  capacity: number,
  at: number,
  count: number,
) {
  const stride = l.stride ?? count;
  const run = count * l.width;
  if (run === 1) {
    // A decode step's keys: one value per line (4,096 per layer at 7B); plain stores are 2-5x faster than set().
    for (let line = 0; line < l.lines; line++) dst[line * capacity + at] = src[line * stride]!;
    return;
  }
  for (let line = 0; line < l.lines; line++) {
    const from = line * stride * l.width;
    dst.set(src.subarray(from, from + run), (line * capacity + at) * l.width);
  }
}
