/**
 * Writes the small pickle subset torch.save produces (protocol 2): enough to make synthetic
 * checkpoints for tests and benchmarks, and hand-crafted (including hostile) pickles in tests.
 */
export class PickleBuilder {
  private readonly parts: number[] = [];

  private byte(...b: number[]): this {
    this.parts.push(...b);
    return this;
  }

  private le(value: number, bytes: number): this {
    let v = BigInt(value);
    for (let i = 0; i < bytes; i++) {
      this.parts.push(Number(v & 0xffn));
      v >>= 8n;
    }
    return this;
  }

  proto(version = 2): this {
    return this.byte(0x80, version);
  }
  mark(): this {
    return this.byte(0x28);
  }
  stop(): this {
    return this.byte(0x2e);
  }
  emptyDict(): this {
    return this.byte(0x7d);
  }
  emptyList(): this {
    return this.byte(0x5d);
  }
  emptyTuple(): this {
    return this.byte(0x29);
  }
  tuple(): this {
    return this.byte(0x74);
  }
  setItems(): this {
    return this.byte(0x75);
  }
  setItem(): this {
    return this.byte(0x73);
  }
  append(): this {
    return this.byte(0x61);
  }
  appends(): this {
    return this.byte(0x65);
  }
  reduce(): this {
    return this.byte(0x52);
  }
  build(): this {
    return this.byte(0x62);
  }
  binPersId(): this {
    return this.byte(0x51);
  }
  bool(v: boolean): this {
    return this.byte(v ? 0x88 : 0x89);
  }
  none(): this {
    return this.byte(0x4e);
  }

  /** An int: BININT when it fits 32 bits, LONG1 with 8 bytes otherwise. */
  int(v: number): this {
    if (Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31) return this.byte(0x4a).le(v >>> 0, 4);
    return this.byte(0x8a, 8).le(v, 8);
  }

  /** An arbitrary-size int as LONG1 (two's complement, little-endian). */
  long(v: bigint): this {
    const bytes: number[] = [];
    let x = v;
    do {
      bytes.push(Number(x & 0xffn));
      x >>= 8n;
    } while (!(x === 0n && (bytes.at(-1)! & 0x80) === 0) && !(x === -1n && (bytes.at(-1)! & 0x80) !== 0));
    return this.byte(0x8a, bytes.length, ...bytes);
  }

  str(s: string): this {
    const b = new TextEncoder().encode(s);
    this.byte(0x58).le(b.length, 4);
    for (const x of b) this.parts.push(x);
    return this;
  }

  /** GLOBAL `module name` (text opcode). */
  global(module: string, name: string): this {
    for (const c of `c${module}\n${name}\n`) this.parts.push(c.charCodeAt(0));
    return this;
  }

  /** STACK_GLOBAL (protocol 4) from the two strings on the stack. */
  stackGlobal(module: string, name: string): this {
    return this.str(module).str(name).byte(0x93);
  }

  ints(values: readonly number[]): this {
    this.mark();
    for (const v of values) this.int(v);
    return this.tuple();
  }

  raw(...bytes: number[]): this {
    return this.byte(...bytes);
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}
