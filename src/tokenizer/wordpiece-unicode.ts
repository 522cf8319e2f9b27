/**
 * Character classes of the reference BERT text path (transformers' BasicTokenizer under Python 3.11, whose
 * `unicodedata` is Unicode 14.0), expressed for a JavaScript engine that may know a newer Unicode version.
 *
 * Measured against Python's unicodedata 14.0 over every code point: Node's \p{C}, \p{Zs}, \p{P}, lower-casing,
 * NFC and NFD agree on every character assigned in 14.0; what differs is (a) characters assigned since, which
 * Python sees as unassigned (category Cn, hence "control" and dropped) and (b) U+1171E, Mn in 14.0.
 */

/** Python's `str.isspace()` set (also what `str.strip()`, `str.split()` and `re` `\s` use on str). */
const PYTHON_WHITESPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002,
  0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

/** Code points unassigned in Unicode 14.0 but assigned by Unicode 17.0: hex ranges, inclusive. */
const ASSIGNED_AFTER_UNICODE_14 = parseRanges(`
  88f 897 c5c cdc cf3 ece 1acf-1add 1ae0-1aeb 1b4e-1b4f 1b7f 1c89-1c8a 20c1 2427-2429 2b96 2ffc-2fff
  31e4-31e5 31ef a7cb-a7cf a7d2 a7d4 a7da-a7dc a7f1 fbc3-fbd2 fd90-fd91 fdc8-fdce 105c0-105f3
  10940-10959 10d40-10d65 10d69-10d85 10d8e-10d8f 10ec2-10ec7 10ed0-10ed8 10efa-10eff 1123f-11241
  11380-11389 1138b 1138e 11390-113b5 113b7-113c0 113c2 113c5 113c7-113ca 113cc-113d5 113d7-113d8
  113e1-113e2 116d0-116e3 11b00-11b09 11b60-11b67 11bc0-11be1 11bf0-11bf9 11db0-11ddb 11de0-11de9
  11f00-11f10 11f12-11f3a 11f3e-11f5a 1342f 13439-13455 13460-143fa 16100-16139 16d40-16d79
  16ea0-16eb8 16ebb-16ed3 16ff2-16ff6 187f8-187ff 18cff 18d09-18d1e 18d80-18df2 1b132 1b155
  1cc00-1ccfc 1cd00-1ceb3 1ceba-1ced0 1cee0-1cef0 1d2c0-1d2d3 1df25-1df2a 1e030-1e06d 1e08f
  1e4d0-1e4f9 1e5d0-1e5fa 1e5ff 1e6c0-1e6de 1e6e0-1e6f5 1e6fe-1e6ff 1f6d8 1f6dc 1f774-1f77f 1f7d9
  1f8b2-1f8bb 1f8c0-1f8c1 1f8d0-1f8d8 1fa54-1fa57 1fa75-1fa77 1fa87-1fa8a 1fa8e-1fa8f 1faad-1faaf
  1fabb-1fabf 1fac6 1fac8 1facd-1facf 1fada-1fadc 1fadf 1fae8-1faea 1faef 1faf7-1faf8 1fbcb-1fbef
  1fbfa 2b739-2b73f 2cea2-2cead 2ebf0-2ee5d 31350-33479
`);

/** Nonspacing mark in Unicode 14.0 (Mc since 15.0). */
const MN_IN_UNICODE_14 = 0x1171e;

/** CJK ideograph blocks that BasicTokenizer surrounds with spaces (the blocks BERT's code lists). */
const CJK_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x4e00, 0x9fff],
  [0x3400, 0x4dbf],
  [0x20000, 0x2a6df],
  [0x2a700, 0x2b73f],
  [0x2b740, 0x2b81f],
  [0x2b820, 0x2ceaf],
  [0xf900, 0xfaff],
  [0x2f800, 0x2fa1f],
];

const OTHER = /^\p{C}$/u;
const SPACE_SEPARATOR = /^\p{Zs}$/u;
const PUNCTUATION = /^\p{P}$/u;
const NONSPACING_MARK = /^\p{Mn}$/u;

function parseRanges(text: string): Array<[number, number]> {
  return text
    .trim()
    .split(/\s+/)
    .map((item) => {
      const [lo, hi = lo] = item.split('-') as [string, string?];
      return [Number.parseInt(lo, 16), Number.parseInt(hi, 16)];
    });
}

function inRanges(cp: number, ranges: ReadonlyArray<readonly [number, number]>): boolean {
  for (const [lo, hi] of ranges) if (cp >= lo && cp <= hi) return true;
  return false;
}

function cp(ch: string): number {
  return ch.codePointAt(0)!;
}

export function isPythonWhitespace(ch: string): boolean {
  return PYTHON_WHITESPACE.has(cp(ch));
}

/** Unassigned in Unicode 14.0: Python's `lower()` leaves it alone and BasicTokenizer drops it. */
export function isUnassignedInUnicode14(ch: string): boolean {
  const c = cp(ch);
  return c >= 0x88f && inRanges(c, ASSIGNED_AFTER_UNICODE_14);
}

/** BasicTokenizer `_is_control`: any category C* (Unicode 14.0) except tab, newline and carriage return. */
export function isBertControl(ch: string): boolean {
  if (ch === '\t' || ch === '\n' || ch === '\r') return false;
  return OTHER.test(ch) || isUnassignedInUnicode14(ch);
}

/** BasicTokenizer `_is_whitespace`: space, tab, newline, carriage return or category Zs. */
export function isBertWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || SPACE_SEPARATOR.test(ch);
}

/** BasicTokenizer `_is_punctuation`: every non-alphanumeric printable ASCII character, or category P*. */
export function isBertPunctuation(ch: string): boolean {
  const c = cp(ch);
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126))
    return true;
  return PUNCTUATION.test(ch);
}

export function isCjkIdeograph(ch: string): boolean {
  const c = cp(ch);
  return c >= 0x3400 && inRanges(c, CJK_RANGES);
}

export function isNonspacingMark(ch: string): boolean {
  return NONSPACING_MARK.test(ch) || cp(ch) === MN_IN_UNICODE_14;
}
