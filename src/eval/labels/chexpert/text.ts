/**
 * Text preparation as the official labeler does it: lower-case, "a/b" read as "a or b", a space after every
 * period and comma (so "3.5 cm" becomes two sentences, exactly as there), whitespace collapsed, then sentences.
 */

/** A word or punctuation token of a sentence, with its character span in the sentence. */
export interface Token {
  text: string;
  start: number;
  end: number;
}

export interface Sentence {
  text: string;
  tokens: Token[];
}

export function cleanReport(report: string): string {
  let t = report.toLowerCase();
  t = t.replace(/and\/or/g, 'or');
  t = t.replace(/(?<=[a-z])\/(?=[a-z])/g, ' or ');
  t = t.replace(/\.\./g, '.');
  t = t.replace(/([.,])/g, '$1 ');
  t = t.split(/\s+/).filter(Boolean).join(' ');
  t = t.replace(/\.\s+\./g, '.');
  return t;
}

/** Sentence ends: . ? ! followed by a space, except after a bare list number ("1. ") or a lone initial. */
const SENTENCE_END = /[.?!](?= |$)/g;
const NO_BREAK_BEFORE = /(?:^|\s)(?:\d{1,2}|[a-z]|dr|e\.g|i\.e|vs)$/;

export function splitSentences(cleaned: string): string[] {
  const out: string[] = [];
  let from = 0;
  for (const m of cleaned.matchAll(SENTENCE_END)) {
    const end = m.index + 1;
    if (NO_BREAK_BEFORE.test(cleaned.slice(from, m.index))) continue;
    const s = cleaned.slice(from, end).trim();
    if (s) out.push(s);
    from = end;
  }
  const rest = cleaned.slice(from).trim();
  if (rest) out.push(rest);
  return out;
}

const TOKEN = /[a-z0-9]+(?:['-][a-z0-9]+)*|[^\sa-z0-9]/g;

export function tokenize(sentence: string): Token[] {
  const tokens: Token[] = [];
  for (const m of sentence.matchAll(TOKEN)) {
    tokens.push({ text: m[0], start: m.index, end: m.index + m[0].length });
  }
  return tokens;
}

export function sentencesOf(report: string): Sentence[] {
  return splitSentences(cleanReport(report)).map((text) => ({ text, tokens: tokenize(text) }));
}
