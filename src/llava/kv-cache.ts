/**
 * The decoder's KV cache: one float32 buffer per layer for keys [heads, headDim, capacity] (transposed, see
 * models/llama.ts) and one for values [heads, capacity, headDim], handed to the decoder as inputs (wrapped, not
 * copied). Each run returns only the new entries, which are written into the buffers at the current length;
 * capacity grows in chunks, so a decode step moves no cache data.
 *
 * Every run attends to the whole capacity (positions past the length are masked), so a prefill starts with a
 * small capacity inside buffers sized for the whole prompt and widens it in place after each chunk to exactly the
 * cached length (`fit`, exact), so that no chunk attends to a masked position: a 1,430-token prompt in 128-row chunks
 * attends to 33% fewer positions than with a doubling layout, for moving about 8,400 cached positions (8 GB at 7B;
 * 1% faster prefill, measured). The last chunk widens the layout to the whole room for the decode steps.
 *
 * Released buffers are kept as one spare set and reused by the next sequence of about the same size: at 7B a
 * 1,500-position cache is 1.6 GB, and fresh pages cost the first prefill that touches them about 2 s of page faults
 * on this machine kind. `reserve` allocates (and touches) the spare ahead, as llama.cpp sizes its cache when the
 * context is created.
 */
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

/**
 * The per-sequence KV cache: key and value buffers per layer, valid up to `length`. The buffers hold `room`
 * positions per line; the layout in use has `capacity` (<= room) positions per line.
 */
export class KvState implements DecoderState {
  released = false;
  /** False once a run gave non-finite logits: its buffers may hold NaN and are not reused. */
  finite = true;
  constructor(
    public length: number,
    public capacity: number,
    public keys: Float32Array[],
    public values: Float32Array[],
    public room = capacity,
  ) {}
}

/**
 * A cache buffer is `lines` lines of `capacity` positions of `width` floats: keys [heads * d lines, width 1]
 * (transposed), values [heads lines, width d]. `stride` is the positions per line of the source (default: the
 * count being appended).
 */
interface CacheLayout {
  lines: number;
  width: number;
  stride?: number;
}

export interface KvShape {
  layers: number;
  heads: number;
  headDim: number;
}

export class KvCaches {
  private readonly rowSize: number;
  private readonly keyLayout: CacheLayout;
  private readonly valueLayout: CacheLayout;
  private spare: KvState | null = null;

  constructor(private readonly shape: KvShape) {
    this.rowSize = shape.heads * shape.headDim;
    this.keyLayout = { lines: shape.heads * shape.headDim, width: 1 };
    this.valueLayout = { lines: shape.heads, width: shape.headDim };
  }

  /** Allocate and touch a spare cache of `capacity` positions now (the next sequence that fits takes it). */
  reserve(capacity: number): void {
    if (this.spare && this.spare.room >= capacity) return;
    this.spare = this.allocate(capacity);
    for (const buffer of [...this.spare.keys, ...this.spare.values]) buffer.fill(0);
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
      state = new KvState(0, spare.room, spare.keys, spare.values);
    } else {
      state = this.allocate(room);
    }
    state.capacity = Math.min(state.room, Math.max(1, capacity));
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
    for (const buffer of state.keys) restride(buffer, this.keyLayout, state.capacity, capacity, state.length);
    for (const buffer of state.values)
      restride(buffer, this.valueLayout, state.capacity, capacity, state.length);
    state.capacity = capacity;
  }

  /** Layer `layer`'s key and value buffers in the layout in use ([lines, capacity, width]). */
  view(state: KvState, layer: number): { keys: Float32Array; values: Float32Array } {
    const size = state.capacity * this.rowSize;
    return { keys: state.keys[layer]!.subarray(0, size), values: state.values[layer]!.subarray(0, size) };
  }

  /** Give the state's buffers back (kept as the spare unless a larger one is held or they may hold NaN). */
  recycle(state: KvState): void {
    if (state.finite && (!this.spare || this.spare.room < state.room)) {
      this.spare = new KvState(0, state.room, state.keys, state.values);
    }
    state.released = true;
    state.keys = [];
    state.values = [];
  }

  copy(state: KvState): KvState {
    const copy = new KvState(
      state.length,
      state.capacity,
      state.keys.map((k) => k.slice()),
      state.values.map((v) => v.slice()),
      state.room,
    );
    copy.finite = state.finite;
    return copy;
  }

  /** Write `count` new positions per layer (the decoder's outputs) after the state's length. */
  append(state: KvState, layer: number, keys: Float32Array, values: Float32Array, count: number): void {
    append(state.keys[layer]!, keys, this.keyLayout, state.capacity, state.length, count);
    append(state.values[layer]!, values, this.valueLayout, state.capacity, state.length, count);
  }

  /** Reallocate the buffers with more positions (the only time cached entries are copied). */
  grow(state: KvState, capacity: number): void {
    const move = (layout: CacheLayout) => (old: Float32Array) => {
      const next = new Float32Array(layout.lines * capacity * layout.width);
      append(next, old, { ...layout, stride: state.capacity }, capacity, 0, state.length);
      return next;
    };
    state.keys = state.keys.map(move(this.keyLayout));
    state.values = state.values.map(move(this.valueLayout));
    state.capacity = capacity;
    state.room = capacity;
  }

  private allocate(capacity: number): KvState {
    const size = capacity * this.rowSize;
    const alloc = () => Array.from({ length: this.shape.layers }, () => new Float32Array(size));
    return new KvState(0, capacity, alloc(), alloc());
  }
}

/**
 * Widen a buffer's layout in place from `from` to `to` positions per line, keeping the first `length` of each.
 * Lines move from the last to the first: each lands at or after where it was, never on a line not yet moved.
 */
function restride(buffer: Float32Array, l: CacheLayout, from: number, to: number, length: number): void {
  for (let line = l.lines - 1; line > 0; line--) {
    const src = line * from * l.width;
    buffer.copyWithin(line * to * l.width, src, src + length * l.width);
  }
}

/** Copy `count` positions per line from `src` into `dst` after position `at`. */
function append(
  dst: Float32Array,
  src: Float32Array,
  l: CacheLayout,
  capacity: number,
  at: number,
  count: number,
) {
  const stride = l.stride ?? count;
  const run = count * l.width;
  if (run === 1) {
    // A decode step's keys: one float per line (4,096 per layer at 7B); plain stores are 2-5x faster than set().
    for (let line = 0; line < l.lines; line++) dst[line * capacity + at] = src[line * stride]!;
    return;
  }
  for (let line = 0; line < l.lines; line++) {
    const from = line * stride * l.width;
    dst.set(src.subarray(from, from + run), (line * capacity + at) * l.width);
  }
}
