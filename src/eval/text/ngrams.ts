/**
 * N-gram counting on interned tokens. Each token becomes a fixed two-code-unit id, so an n-gram key is just a
 * substring of the encoded sentence (no per-n-gram array join), and its order is key.length / 2.
 */
const UNITS_PER_TOKEN = 2;
const UNIT_BITS = 16;
const UNIT_MASK = 0xffff;

export class Vocabulary {
  private readonly ids = new Map<string, number>();

  /** Encode tokens as a string of fixed-width ids (interning new tokens). */
  encode(tokens: readonly string[]): string {
    let out = '';
    for (const t of tokens) {
      let id = this.ids.get(t);
      if (id === undefined) {
        id = this.ids.size;
        this.ids.set(t, id);
      }
      out += String.fromCharCode(id >>> UNIT_BITS, id & UNIT_MASK);
    }
    return out;
  }
}

export function tokenCount(encoded: string): number {
  return encoded.length / UNITS_PER_TOKEN;
}

export function ngramOrder(key: string): number {
  return key.length / UNITS_PER_TOKEN;
}

/** Counts of all n-grams of orders 1..maxOrder, inserted order by order, left to right (as the Python loops). */
export function countNgrams(encoded: string, maxOrder: number): Map<string, number> {
  const counts = new Map<string, number>();
  const len = tokenCount(encoded);
  for (let n = 1; n <= maxOrder; n++) {
    const width = n * UNITS_PER_TOKEN;
    for (let i = 0; i + n <= len; i++) {
      const key = encoded.substr(i * UNITS_PER_TOKEN, width);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}
