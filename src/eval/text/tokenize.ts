/**
 * The tokenisers of the reference implementations, reproduced exactly.
 * Python's `str.split()` / `str.rstrip()` use Unicode whitespace, which differs from JavaScript's `\s`
 * (Python counts U+001C..U+001F and U+0085, JavaScript counts U+FEFF), so it is spelled out here.
 */
const PY_WHITESPACE =
  '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_WS_RUN = new RegExp(`[${PY_WHITESPACE}]+`, 'g');
const PY_WS_TRAILING = new RegExp(`[${PY_WHITESPACE}]+$`);

/** Python `s.split()`. */
export function pySplit(s: string): string[] {
  const parts = s.split(PY_WS_RUN);
  let start = 0;
  let end = parts.length;
  if (parts[0] === '') start = 1;
  if (end > start && parts[end - 1] === '') end -= 1;
  return start === 0 && end === parts.length ? parts : parts.slice(start, end);
}

/** Python `s.rstrip()`. */
export function pyRstrip(s: string): string {
  return s.replace(PY_WS_TRAILING, '');
}

// sacrebleu tokenizer_13a.py / tokenizer_re.py (mteval-v13a.pl)
/** Symbols split off everywhere: the ranges {-~ [-` space-& (-+ :-@ and '/'. */
const SYMBOLS_13A = /([\x7b-\x7e\x5b-\x60\x20-\x26\x28-\x2b\x3a-\x40\x2f])/g;
/** Period and comma unless preceded by a digit. */
const PERIOD_COMMA_AFTER_NON_DIGIT = /([^0-9])([.,])/g;
/** Period and comma unless followed by a digit. */
const PERIOD_COMMA_BEFORE_NON_DIGIT = /([.,])([^0-9])/g;
/** Dash when preceded by a digit. */
const DASH_AFTER_DIGIT = /([0-9])(-)/g;

/** sacrebleu's `13a` tokenisation after its `rstrip()`, returned as tokens. */
export function tokenize13a(text: string): string[] {
  let line = pyRstrip(text);
  line = line.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ');
  if (line.includes('&')) {
    line = line
      .replaceAll('&quot;', '"')
      .replaceAll('&amp;', '&')
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>');
  }
  line = ` ${line} `
    .replace(SYMBOLS_13A, ' $1 ')
    .replace(PERIOD_COMMA_AFTER_NON_DIGIT, '$1 $2 ')
    .replace(PERIOD_COMMA_BEFORE_NON_DIGIT, ' $1 $2')
    .replace(DASH_AFTER_DIGIT, '$1 $2 ');
  return pySplit(line);
}

const LOWER_ALNUM_RUN = /[a-z0-9]+/g;

/**
 * rouge_score's tokenize.py: lowercase, every non-[a-z0-9] run becomes a separator (non-ASCII letters are
 * dropped). The CIDEr-D tokenisation of metric-refs is the same rule: `re.findall(r"[a-z0-9]+", s.lower())`.
 */
export function tokenizeLowerAlnum(text: string): string[] {
  return text.toLowerCase().match(LOWER_ALNUM_RUN) ?? [];
}
