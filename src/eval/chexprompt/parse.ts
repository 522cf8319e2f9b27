/**
 * Reading a judge's answer: JSON (structured backends, or a judge that chose JSON) and the two list forms of the
 * original CheXprompt output, `[(A, 1), (B, 0), ...]` and `((A, 1), (B, 0), ...)`, with or without surrounding
 * explanation. Tolerant about layout, strict about content: every count must be a whole number in range, a type
 * may appear once per list, both significance levels must be present. Types a list leaves out count 0.
 */
import {
  ERROR_TYPES,
  type ErrorCounts,
  type ErrorType,
  MAX_COUNT_PER_TYPE,
  SIGNIFICANCE,
  type Significance,
  type TypeCounts,
  zeroTypeCounts,
} from './counts.js';

export type ParseResult =
  | { ok: true; counts: ErrorCounts; form: 'json' | 'list' }
  | { ok: false; reason: string };

class Invalid extends Error {}

export function parseAnswer(text: string): ParseResult {
  const attempts: string[] = [];
  for (const [form, parse] of [
    ['json', parseJsonAnswer],
    ['list', parseListAnswer],
  ] as const) {
    try {
      const counts = parse(text);
      if (counts) return { ok: true, counts, form };
    } catch (e) {
      if (!(e instanceof Invalid)) throw e;
      attempts.push(`${form}: ${e.message}`);
    }
  }
  return { ok: false, reason: attempts.length > 0 ? attempts.join('; ') : 'no error counts found' };
}

// ---- JSON --------------------------------------------------------------------------------------------------

/** The outermost {...} span (code fences and prose around it are ignored); undefined when there is none. */
function jsonSpan(text: string): string | undefined {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  return start >= 0 && end > start ? text.slice(start, end + 1) : undefined;
}

function parseJsonAnswer(text: string): ErrorCounts | undefined {
  const span = jsonSpan(text);
  if (span === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(span);
  } catch {
    // Braces without JSON (e.g. prose with a "{" in it): let the list reader try.
    return undefined;
  }
  if (!isRecord(value)) throw new Invalid('the JSON answer is not an object');
  const levels: Partial<Record<Significance, unknown>> = {};
  for (const [key, v] of Object.entries(value)) {
    const level = significanceOf(key);
    if (level === undefined) continue;
    if (levels[level] !== undefined) throw new Invalid(`"${level}" given twice`);
    levels[level] = v;
  }
  const out = {} as ErrorCounts;
  for (const level of SIGNIFICANCE) {
    if (levels[level] === undefined) throw new Invalid(`no "${level}" key`);
    out[level] = jsonTypeCounts(levels[level], level);
  }
  return out;
}

function jsonTypeCounts(v: unknown, level: Significance): TypeCounts {
  // {"A": 1, ...} or [["A", 1], ...]
  const entries: [string, unknown][] = Array.isArray(v)
    ? v.map((p) => {
        if (!Array.isArray(p) || p.length !== 2)
          throw new Invalid(`"${level}": expected [type, count] pairs`);
        return [String(p[0]), p[1]];
      })
    : isRecord(v)
      ? Object.entries(v)
      : [];
  if (!Array.isArray(v) && !isRecord(v)) throw new Invalid(`"${level}" is neither an object nor a list`);
  return collect(
    entries.map(([k, n]) => [k, typeof n === 'number' ? n : Number.NaN]),
    level,
  );
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A level word; group 1 is set for the insignificant spellings (insignificant, non-significant, not significant). */
const LEVEL_WORD = /(in|non-?\s?|not\s+(?:clinically\s+)?)?significant/gi;

/**
 * The level a label names: "significant", "clinically_significant", "Clinically insignificant errors",
 * "not clinically significant", ... When the text holds several (prose before a list), the last one wins: it is
 * the one right before the list.
 */
function significanceOf(label: string): Significance | undefined {
  const last = [...label.matchAll(LEVEL_WORD)].at(-1);
  if (!last) return undefined;
  return last[1] ? 'insignificant' : 'significant';
}

// ---- lists -------------------------------------------------------------------------------------------------

const PAIR = /\(\s*['"]?([A-Za-z])['"]?\s*[,:]\s*['"]?(-?\d+(?:\.\d+)?)['"]?\s*\)/y;
/** A list opens with "[" or "(" right before its first pair, or is an empty "[]". */
const LIST_START = /[[(](?=\s*\(\s*['"]?[A-Za-z]['"]?\s*[,:])|\[\s*\]/g;

interface FoundList {
  start: number;
  end: number;
  pairs: [string, number][];
}

function readList(text: string, start: number): FoundList {
  const open = text[start]!;
  const close = open === '[' ? ']' : ')';
  let i = start + 1;
  const pairs: [string, number][] = [];
  const skip = (re: RegExp) => {
    re.lastIndex = i;
    const m = re.exec(text);
    if (m) i = re.lastIndex;
    return m;
  };
  for (;;) {
    skip(/\s*/y);
    if (text[i] === close) return { start, end: i + 1, pairs };
    const m = skip(PAIR);
    if (!m) throw new Invalid(`unreadable list at "${text.slice(start, start + 40)}"`);
    pairs.push([m[1]!, Number(m[2])]);
    skip(/\s*,?/y);
  }
}

function parseListAnswer(text: string): ErrorCounts | undefined {
  const lists: FoundList[] = [];
  for (const m of text.matchAll(LIST_START)) {
    if (lists.length > 0 && m.index < lists.at(-1)!.end) continue; // an inner "(" of a "((A, 1), ...)" list
    const isEmptyList = m[0].length > 1; // the "[]" alternative of LIST_START
    lists.push(
      isEmptyList ? { start: m.index, end: m.index + m[0].length, pairs: [] } : readList(text, m.index),
    );
  }
  if (lists.length === 0) return undefined;
  // A list's label is in the text between the previous list and this one.
  const labelled = lists.map((list, i) => ({
    list,
    level: significanceOf(text.slice(i === 0 ? 0 : lists[i - 1]!.end, list.start)),
  }));
  return assignLevels(labelled);
}

/** Labelled lists go to their level; unlabelled ones, when exactly two, are significant then insignificant. */
function assignLevels(lists: { list: FoundList; level: Significance | undefined }[]): ErrorCounts {
  const out: Partial<ErrorCounts> = {};
  const labelled = lists.filter((l) => l.level !== undefined);
  if (labelled.length === 0 && lists.length === 2) {
    return {
      significant: collect(lists[0]!.list.pairs, 'significant'),
      insignificant: collect(lists[1]!.list.pairs, 'insignificant'),
    };
  }
  if (labelled.length !== lists.length || lists.length !== 2) {
    throw new Invalid(
      `expected one significant and one insignificant list, found ${lists.length} list(s), ${labelled.length} labelled`,
    );
  }
  for (const { list, level } of labelled) {
    if (out[level!]) throw new Invalid(`two lists for "${level}"`);
    out[level!] = collect(list.pairs, level!);
  }
  if (!out.significant || !out.insignificant) throw new Invalid('one significance level has no list');
  return out as ErrorCounts;
}

// ---- validation --------------------------------------------------------------------------------------------

/** The strict part: known type letters, each once, whole counts in [0, MAX_COUNT_PER_TYPE]. */
function collect(pairs: [string, number][], level: Significance): TypeCounts {
  const counts = zeroTypeCounts();
  const seen = new Set<string>();
  for (const [rawType, n] of pairs) {
    const t = rawType.toUpperCase();
    if (!(ERROR_TYPES as readonly string[]).includes(t))
      throw new Invalid(`${level}: unknown error type "${rawType}"`);
    if (seen.has(t)) throw new Invalid(`${level}: type ${t} appears twice`);
    seen.add(t);
    if (!Number.isInteger(n) || n < 0 || n > MAX_COUNT_PER_TYPE) {
      throw new Invalid(
        `${level}: count for ${t} must be a whole number 0..${MAX_COUNT_PER_TYPE}, found ${n}`,
      );
    }
    counts[t as ErrorType] = n;
  }
  return counts;
}
