/**
 * A pickle virtual machine that builds data, never code. It understands every opcode of protocols
 * 0-5, but a global (GLOBAL, STACK_GLOBAL, INST) resolves only through the caller's allow-list:
 * anything else stops the load with `unsafe pickle: module.name` before an object is built from it.
 * Values: dict -> Map, list/tuple -> Array, set -> Set, str -> string, bytes -> Uint8Array,
 * int -> number (bigint beyond 2^53), float -> number, None -> null.
 */
import { inputError, isCxrError } from '../errors.js';

/** An allow-listed callable. `call` implements REDUCE / NEWOBJ; `build` implements BUILD on its results. */
export interface PyGlobal {
  readonly module: string;
  readonly name: string;
  call(args: unknown[]): unknown;
}

export interface UnpickleOptions {
  /** For error messages: the file, and the entry inside it. */
  file: string;
  entry?: string;
  /** `module.name` -> implementation. Everything not listed is refused. */
  globals: ReadonlyMap<string, PyGlobal>;
  /** Resolves BINPERSID / PERSID ids (torch storages). Without it, persistent ids are refused. */
  persistentLoad?: (pid: unknown) => unknown;
  /** BUILD on an object produced by an allow-listed global: apply `state`, or throw. */
  build?: (obj: unknown, state: unknown) => unknown;
}

/** Memo and stack limits: a real checkpoint pickle stays far below them; crafted ones do not grow forever. */
const MAX_MEMO_INDEX = 1 << 24;

export function isGlobal(v: unknown): v is PyGlobal {
  return typeof v === 'object' && v !== null && 'module' in v && 'call' in v;
}

export function unpickle(data: Uint8Array, opts: UnpickleOptions): unknown {
  return new Machine(data, opts).run();
}

/** Unpickle the pickle starting at `start`; also returns where it ended (files holding several pickles). */
export function unpickleAt(
  data: Uint8Array,
  start: number,
  opts: UnpickleOptions,
): { value: unknown; end: number } {
  const m = new Machine(data.subarray(start), opts);
  const value = m.run();
  return { value, end: start + m.position };
}

class Machine {
  private pos = 0;
  private stack: unknown[] = [];
  private marks: number[] = [];
  private memo = new Map<number, unknown>();
  private readonly view: DataView;

  constructor(
    private readonly data: Uint8Array,
    private readonly opts: UnpickleOptions,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  get position(): number {
    return this.pos;
  }

  fail(message: string, code = 'weights.bad_pickle'): never {
    throw inputError(code, message, { file: this.opts.file, field: this.opts.entry });
  }

  run(): unknown {
    for (;;) {
      const op = this.u8();
      if (op === 0x2e) return this.pop(); // STOP
      this.step(op);
    }
  }

  // --- reading ---
  private need(n: number): number {
    if (n < 0 || this.pos + n > this.data.length) this.fail('pickle data is truncated', 'weights.truncated');
    const at = this.pos;
    this.pos += n;
    return at;
  }
  private u8(): number {
    return this.data[this.need(1)]!;
  }
  private u16(): number {
    return this.view.getUint16(this.need(2), true);
  }
  private u32(): number {
    return this.view.getUint32(this.need(4), true);
  }
  private i32(): number {
    return this.view.getInt32(this.need(4), true);
  }
  private u64(): number {
    const v = this.view.getBigUint64(this.need(8), true);
    if (v > BigInt(this.data.length)) this.fail('pickle length field exceeds the data');
    return Number(v);
  }
  private bytes(n: number): Uint8Array {
    const at = this.need(n);
    return new Uint8Array(this.data.subarray(at, at + n)); // a plain copy, also when given a Buffer
  }
  private utf8(n: number): string {
    const at = this.need(n);
    return new TextDecoder().decode(this.data.subarray(at, at + n));
  }
  private line(): string {
    const end = this.data.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('pickle data is truncated (no end of line)', 'weights.truncated');
    const s = new TextDecoder('latin1').decode(this.data.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }

  // --- stack ---
  private push(v: unknown): void {
    this.stack.push(v);
  }
  private pop(): unknown {
    if (this.stack.length === 0 || this.stack.length <= (this.marks.at(-1) ?? -1))
      this.fail('pickle stack underflow');
    return this.stack.pop();
  }
  private top(): unknown {
    if (this.stack.length === 0) this.fail('pickle stack underflow');
    return this.stack[this.stack.length - 1];
  }
  private popMark(): unknown[] {
    const m = this.marks.pop();
    if (m === undefined) this.fail('pickle MARK missing');
    return this.stack.splice(m);
  }
  private put(index: number): void {
    if (index < 0 || index > MAX_MEMO_INDEX) this.fail(`pickle memo index ${index} out of range`);
    this.memo.set(index, this.top());
  }
  private get(index: number): void {
    if (!this.memo.has(index)) this.fail(`pickle memo ${index} read before written`);
    this.push(this.memo.get(index));
  }

  // --- globals and calls ---
  private resolveGlobal(module: string, name: string): PyGlobal {
    const g = this.opts.globals.get(`${module}.${name}`);
    if (!g) this.fail(`unsafe pickle: ${module}.${name}`, 'weights.unsafe_pickle');
    return g;
  }
  private call(callable: unknown, args: unknown): unknown {
    if (!isGlobal(callable))
      this.fail(`unsafe pickle: call of a non-allow-listed ${describe(callable)}`, 'weights.unsafe_pickle');
    if (!Array.isArray(args))
      this.fail(`pickle call of ${callable.module}.${callable.name} without an argument tuple`);
    try {
      return callable.call(args);
    } catch (e) {
      // the allow-listed builders do not know the file: add it
      if (isCxrError(e) && e.file === undefined) this.fail(e.message, e.code);
      throw e;
    }
  }
  private persistent(pid: unknown): unknown {
    if (!this.opts.persistentLoad)
      this.fail('unsafe pickle: persistent id outside a torch checkpoint', 'weights.unsafe_pickle');
    return this.opts.persistentLoad(pid);
  }

  private step(op: number): void {
    switch (op) {
      case 0x80: // PROTO
        if (this.u8() > 5) this.fail('pickle protocol above 5');
        return;
      case 0x95: // FRAME (frames are only a read-ahead hint)
        this.need(8);
        return;
      case 0x28: // MARK
        this.marks.push(this.stack.length);
        return;
      case 0x30: // POP
        this.pop();
        return;
      case 0x31: // POP_MARK
        this.popMark();
        return;
      case 0x32: // DUP
        this.push(this.top());
        return;
      case 0x4e: // NONE
        this.push(null);
        return;
      case 0x88: // NEWTRUE
        this.push(true);
        return;
      case 0x89: // NEWFALSE
        this.push(false);
        return;
      case 0x4a: // BININT
        this.push(this.i32());
        return;
      case 0x4b: // BININT1
        this.push(this.u8());
        return;
      case 0x4d: // BININT2
        this.push(this.u16());
        return;
      case 0x8a: // LONG1
        this.push(this.long(this.u8()));
        return;
      case 0x8b: // LONG4
        this.push(this.long(this.u32()));
        return;
      case 0x49: // INT (text; "00"/"01" are the protocol-0 booleans)
        this.push(this.textInt(this.line()));
        return;
      case 0x4c: // LONG (text)
        this.push(this.textInt(this.line().replace(/L$/, '')));
        return;
      case 0x47: // BINFLOAT (big-endian double)
        this.push(this.view.getFloat64(this.need(8), false));
        return;
      case 0x46: // FLOAT (text)
        this.push(Number.parseFloat(this.line()));
        return;
      case 0x58: // BINUNICODE
        this.push(this.utf8(this.u32()));
        return;
      case 0x8c: // SHORT_BINUNICODE
        this.push(this.utf8(this.u8()));
        return;
      case 0x8d: // BINUNICODE8
        this.push(this.utf8(this.u64()));
        return;
      case 0x56: // UNICODE (raw-unicode-escape text)
        this.push(
          this.line().replace(/\\u([0-9a-fA-F]{4})/g, (_, h) => String.fromCharCode(Number.parseInt(h, 16))),
        );
        return;
      case 0x54: // BINSTRING (py2 str: bytes shown as latin-1 text)
        this.push(latin1(this.bytes(this.i32())));
        return;
      case 0x55: // SHORT_BINSTRING
        this.push(latin1(this.bytes(this.u8())));
        return;
      case 0x53: // STRING (repr-quoted text)
        this.push(unquote(this.line()));
        return;
      case 0x42: // BINBYTES
        this.push(this.bytes(this.u32()));
        return;
      case 0x43: // SHORT_BINBYTES
        this.push(this.bytes(this.u8()));
        return;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        this.push(this.bytes(this.u64()));
        return;
      case 0x29: // EMPTY_TUPLE
      case 0x5d: // EMPTY_LIST
        this.push([]);
        return;
      case 0x7d: // EMPTY_DICT
        this.push(new Map());
        return;
      case 0x8f: // EMPTY_SET
        this.push(new Set());
        return;
      case 0x85: // TUPLE1
        this.push([this.pop()]);
        return;
      case 0x86: {
        // TUPLE2
        const b = this.pop();
        this.push([this.pop(), b]);
        return;
      }
      case 0x87: {
        // TUPLE3
        const c = this.pop();
        const b = this.pop();
        this.push([this.pop(), b, c]);
        return;
      }
      case 0x74: // TUPLE
      case 0x6c: // LIST
        this.push(this.popMark());
        return;
      case 0x91: // FROZENSET
        this.push(new Set(this.popMark()));
        return;
      case 0x64: // DICT
        this.push(this.setItems(new Map(), this.popMark()));
        return;
      case 0x61: {
        // APPEND
        const v = this.pop();
        this.list(this.top()).push(v);
        return;
      }
      case 0x65: {
        // APPENDS
        const items = this.popMark();
        this.list(this.top()).push(...items);
        return;
      }
      case 0x90: {
        // ADDITEMS
        const items = this.popMark();
        const s = this.top();
        if (!(s instanceof Set)) this.fail('pickle ADDITEMS on a non-set');
        for (const i of items) s.add(i);
        return;
      }
      case 0x73: {
        // SETITEM
        const v = this.pop();
        const k = this.pop();
        this.setItems(this.dict(this.top()), [k, v]);
        return;
      }
      case 0x75: {
        // SETITEMS
        const items = this.popMark();
        this.setItems(this.dict(this.top()), items);
        return;
      }
      case 0x70: // PUT
        this.put(Number(this.line()));
        return;
      case 0x71: // BINPUT
        this.put(this.u8());
        return;
      case 0x72: // LONG_BINPUT
        this.put(this.u32());
        return;
      case 0x94: // MEMOIZE
        this.put(this.memo.size);
        return;
      case 0x67: // GET
        this.get(Number(this.line()));
        return;
      case 0x68: // BINGET
        this.get(this.u8());
        return;
      case 0x6a: // LONG_BINGET
        this.get(this.u32());
        return;
      case 0x63: {
        // GLOBAL
        const module = this.line();
        this.push(this.resolveGlobal(module, this.line()));
        return;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = this.pop();
        const module = this.pop();
        if (typeof module !== 'string' || typeof name !== 'string')
          this.fail('pickle STACK_GLOBAL needs two strings');
        this.push(this.resolveGlobal(module, name));
        return;
      }
      case 0x69: {
        // INST: class from text, arguments from the mark
        const module = this.line();
        const cls = this.resolveGlobal(module, this.line());
        this.push(this.call(cls, this.popMark()));
        return;
      }
      case 0x6f: {
        // OBJ: class and arguments from the mark
        const [cls, ...args] = this.popMark();
        this.push(this.call(cls, args));
        return;
      }
      case 0x52: {
        // REDUCE
        const args = this.pop();
        this.push(this.call(this.pop(), args));
        return;
      }
      case 0x81: {
        // NEWOBJ
        const args = this.pop();
        this.push(this.call(this.pop(), args));
        return;
      }
      case 0x92: {
        // NEWOBJ_EX
        const kwargs = this.pop();
        const args = this.pop();
        if (!(kwargs instanceof Map) || kwargs.size > 0) this.fail('pickle NEWOBJ_EX with keyword arguments');
        this.push(this.call(this.pop(), args));
        return;
      }
      case 0x62: {
        // BUILD
        const state = this.pop();
        const obj = this.pop();
        if (!this.opts.build) this.fail(`unsafe pickle: BUILD on ${describe(obj)}`, 'weights.unsafe_pickle');
        this.push(this.opts.build(obj, state));
        return;
      }
      case 0x51: // BINPERSID
        this.push(this.persistent(this.pop()));
        return;
      case 0x50: // PERSID
        this.push(this.persistent(this.line()));
        return;
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        this.fail('unsafe pickle: extension registry code', 'weights.unsafe_pickle');
        break;
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        this.fail('pickle out-of-band buffers are not supported');
        break;
      default:
        this.fail(`unknown pickle opcode 0x${op.toString(16)} at byte ${this.pos - 1}`);
    }
  }

  private long(n: number): number | bigint {
    const b = this.bytes(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (n > 0 && b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
    return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  }

  private textInt(s: string): number | bigint | boolean {
    if (s === '00') return false;
    if (s === '01') return true;
    if (!/^[-+]?\d+$/.test(s)) this.fail(`pickle INT is not a number: ${s.slice(0, 40)}`);
    const v = BigInt(s);
    return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  }

  private list(v: unknown): unknown[] {
    if (!Array.isArray(v)) this.fail(`pickle APPEND on ${describe(v)}`);
    return v;
  }

  private dict(v: unknown): Map<unknown, unknown> {
    if (!(v instanceof Map)) this.fail(`pickle SETITEM on ${describe(v)}`);
    return v;
  }

  private setItems(d: Map<unknown, unknown>, items: unknown[]): Map<unknown, unknown> {
    if (items.length % 2) this.fail('pickle SETITEMS with an odd item count');
    for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
    return d;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'a tuple/list';
  if (v instanceof Map) return 'a dict';
  if (isGlobal(v)) return `${v.module}.${v.name}`;
  return typeof v === 'object' ? (v.constructor?.name ?? 'an object') : typeof v;
}

function latin1(b: Uint8Array): string {
  return new TextDecoder('latin1').decode(b);
}

/** A protocol-0 STRING argument: a Python repr in single or double quotes with backslash escapes. */
function unquote(s: string): string {
  const q = s[0];
  const body = (q === "'" || q === '"') && s.endsWith(q) ? s.slice(1, -1) : s;
  return body.replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(Number.parseInt(e.slice(1), 16));
    return { n: '\n', r: '\r', t: '\t', '0': '\0' }[e] ?? e;
  });
}
