/**
 * Negation and uncertainty by cue phrases and scope rules, standing in for the official labeler's patterns on a
 * dependency parse. A cue either governs what follows it ("no", "possible", "cannot exclude"), or is a predicate
 * about the subject before it ("... is normal", "... cannot be excluded"), or modifies the noun phrase right after
 * it ("normal heart size", "stable cardiomediastinal silhouette").
 */
import {
  ALTERNATIVE,
  CLAUSE_BREAK,
  COORDINATED_PREDICATE,
  COPULA,
  type CueSet,
  FINITE_VERB,
  LINKING_VERB,
  MAX_MODIFIERS,
  NEGATION,
  NOUN_MODIFIERS,
  NP_END,
  PRE_NEGATION_UNCERTAINTY,
  PREDICATE_ADVERB,
  PREPOSITION,
  type Reach,
  STABLE,
  STABLE_HEADS,
  UNCERTAINTY,
  VERB_LIKE_PLURALS,
} from './cues.js';
import type { Mention } from './mentions.js';
import type { Token } from './text.js';

export type Mark = 'negation' | 'uncertainty';

interface Cue {
  first: number;
  last: number;
}

interface Analysis {
  tokens: Token[];
  /** The tokens joined by single spaces: cue patterns run on this line. */
  line: string;
  /** For each character of `line`, the index of its token. */
  tokenAtChar: Uint32Array;
  cues: Map<RegExp, Cue[]>;
  subjects: Map<number, Subject>;
  hasFiniteVerb?: boolean;
}

/**
 * The furthest, in tokens, any cue reaches or any scan runs: far beyond a real clause, and it keeps a
 * pathological sentence (a whole file without a period) linear in its length.
 */
const MAX_REACH = 48;

export function analyse(tokens: Token[]): Analysis {
  const line = tokens.map((t) => t.text).join(' ');
  const tokenAtChar = new Uint32Array(line.length);
  let at = 0;
  tokens.forEach((t, i) => {
    tokenAtChar.fill(i, at, at + t.text.length + 1);
    at += t.text.length + 1;
  });
  return { tokens, line, tokenAtChar, cues: new Map(), subjects: new Map() };
}

/** Cue matches as token ranges. */
function cuesOf(a: Analysis, pattern: RegExp): Cue[] {
  const known = a.cues.get(pattern);
  if (known) return known;
  const cues: Cue[] = [];
  for (const m of a.line.matchAll(pattern)) {
    cues.push({ first: a.tokenAtChar[m.index]!, last: a.tokenAtChar[m.index + m[0].length - 1]! + 1 });
  }
  a.cues.set(pattern, cues);
  return cues;
}

const word = (a: Analysis, i: number) => a.tokens[i]?.text ?? '';

/** Where a clause-wide cue's reach ends: the next clause break or a new clause after a comma. */
function clauseEnd(a: Analysis, from: number): number {
  const limit = Math.min(a.tokens.length, from + MAX_REACH);
  let infinitives = 0;
  for (let i = from; i < limit; i++) {
    const w = word(a, i);
    if (CLAUSE_BREAK.has(w)) return i;
    if (w === ',' && (word(a, i + 1) === 'there' || word(a, i + 1) === 'the' || word(a, i + 1) === 'this'))
      return i;
    if (i > from && w !== 'be' && w !== 'been' && (COPULA.has(w) || LINKING_VERB.has(w))) return i;
    // In a sentence without a verb ("no focal consolidation to suggest pneumonia.") the parse makes the
    // infinitive its own clause.
    // Elsewhere it reaches into one infinitive ("no line to suggest pneumothorax"), not into a second one.
    if (w === 'to' && (!hasFiniteVerb(a) || ++infinitives > 1)) return i;
  }
  return limit;
}

function hasFiniteVerb(a: Analysis): boolean {
  a.hasFiniteVerb ??= a.tokens.some((t) => FINITE_VERB.has(t.text));
  return a.hasFiniteVerb;
}

/** The end of a noun phrase starting at `from`, running through its "and"/"," conjuncts when `conjuncts`. */
function phraseEnd(a: Analysis, from: number, conjuncts: boolean, throughOf = false): number {
  const limit = Math.min(a.tokens.length, from + MAX_REACH);
  let i = from;
  while (i < limit) {
    const w = word(a, i);
    if (conjuncts && (w === 'and' || w === ',') && i > from && !NP_END.has(word(a, i + 1))) {
      i++;
      continue;
    }
    if (NP_END.has(w) && i > from && !(throughOf && w === 'of')) break;
    i++;
  }
  return i;
}

/** A mention ends its noun phrase (is its head) when the next token cannot continue the phrase. */
function isHead(a: Analysis, m: Mention): boolean {
  const next = word(a, m.last);
  return next === '' || NP_END.has(next) || next === ')' || next === '(';
}

/** The subject before a predicate at `at`: its token range, and whether a true copula links them. */
const isVerb = (w: string) => COPULA.has(w) || LINKING_VERB.has(w);

/** Walking left from a predicate: what the word at `i` is to it, or where the walk stops. */
function predicateStep(a: Analysis, i: number, prepositional: boolean): 'copula' | 'verb' | 'skip' | 'stop' {
  const w = word(a, i);
  if (COPULA.has(w)) return 'copula';
  if (LINKING_VERB.has(w)) return 'verb';
  // "is xxxx within normal limits", "is of normal size": only right after a verb.
  if (w === 'xxxx' || w === 'of') return isVerb(word(a, i - 1)) ? 'skip' : 'stop';
  // "... to be within normal limits"
  if (w === 'to' && word(a, i + 1) === 'be') return 'skip';
  if (PREDICATE_ADVERB.has(w) || (COORDINATED_PREDICATE.has(w) && !prepositional)) return 'skip';
  return 'stop';
}

interface Subject {
  start: number;
  end: number;
  copula: boolean;
  verb: boolean;
}

function subjectBefore(a: Analysis, at: number): Subject {
  let known = a.subjects.get(at);
  if (!known) {
    known = findSubject(a, at);
    a.subjects.set(at, known);
  }
  return known;
}

function findSubject(a: Analysis, at: number): Subject {
  const limit = Math.max(0, at - MAX_REACH);
  // A prepositional predicate after another one ("is stable and within normal limits") is the parse's
  // conjunct of that predicate, not of the subject.
  const prepositional = PREPOSITION.has(word(a, at));
  let end = at;
  let copula = false;
  let verb = false;
  while (end > limit) {
    const step = predicateStep(a, end - 1, prepositional);
    if (step === 'stop') break;
    if (step === 'copula') copula = true;
    if (step === 'verb') verb = true;
    end--;
  }
  // A predicate right after a preposition belongs to that phrase ("heart of normal size"), not to a subject.
  if (!copula && !verb && PREPOSITION.has(word(a, end - 1))) return { start: end, end, copula, verb };
  let start = end;
  while (start > limit) {
    const w = word(a, start - 1);
    if (w === ',' || w === 'and') {
      start--;
      continue;
    }
    if (NP_END.has(w) && w !== 'of') break;
    start--;
  }
  // After an earlier verb ("there is cardiomegaly and the lungs are clear") the subject is the last conjunct.
  if (start > 0 && isVerb(word(a, start - 1))) {
    for (let i = end - 1; i > start; i--) {
      if (word(a, i) === 'and' || word(a, i) === ',') return { start: i + 1, end, copula, verb };
    }
  }
  return { start, end, copula, verb };
}

/** Index of the first cue whose `key` is at least `value` (cues are in sentence order). */
function firstCueFrom(cues: Cue[], key: 'first' | 'last', value: number): number {
  let lo = 0;
  let hi = cues.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cues[mid]![key] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The cues ending in the MAX_REACH tokens before a mention. */
function cuesBefore(cues: Cue[], m: Mention): Cue[] {
  const from = firstCueFrom(cues, 'last', m.first - MAX_REACH);
  const to = firstCueFrom(cues, 'last', m.first + 1);
  return cues.slice(from, to);
}

/** The cues starting in the MAX_REACH tokens after a mention. */
function cuesAfter(cues: Cue[], m: Mention): Cue[] {
  return cues.slice(firstCueFrom(cues, 'first', m.last), firstCueFrom(cues, 'first', m.last + MAX_REACH + 1));
}

function forwardReach(a: Analysis, pattern: RegExp, m: Mention, reach: Reach, throughOf = false): boolean {
  return cuesBefore(cuesOf(a, pattern), m).some((c) => {
    if (c.last > m.first) return false;
    const end =
      reach === 'clause' ? clauseEnd(a, c.last) : phraseEnd(a, c.last, reach === 'conjuncts', throughOf);
    return m.first < end;
  });
}

function backwardReach(a: Analysis, cues: CueSet, m: Mention): boolean {
  const reaches = (c: Cue, headsOnly: boolean) => {
    if (c.first < m.last) return false;
    const s = subjectBefore(a, c.first);
    if (!(s.start <= m.first && m.last <= s.end)) return false;
    if (cues.backwardNeedsVerb && !s.copula && !s.verb) return false;
    return !headsOnly || m.last === s.end || isHead(a, m);
  };
  return (
    cuesAfter(cuesOf(a, cues.backward), m).some((c) =>
      reaches(c, cues.backwardHeadsOnly && !subjectBefore(a, c.first).copula),
    ) ||
    (cues.backwardHeads !== undefined &&
      cuesAfter(cuesOf(a, cues.backwardHeads), m).some((c) => reaches(c, true)))
  );
}

function matches(a: Analysis, cues: CueSet, m: Mention): boolean {
  return (
    forwardReach(a, cues.forward, m, 'clause') ||
    forwardReach(a, cues.modifier, m, 'phrase') ||
    forwardReach(a, cues.complement, m, 'conjuncts', cues.complementThroughOf) ||
    backwardReach(a, cues, m)
  );
}

function inAlternatives(a: Analysis, m: Mention): boolean {
  if (isHead(a, m) && ALTERNATIVE.has(word(a, m.last))) return true;
  for (let i = m.first - 1; i >= Math.max(0, m.first - 1 - MAX_MODIFIERS); i--) {
    const w = word(a, i);
    if (ALTERNATIVE.has(w)) return isHead(a, m) || m.first === i + 1;
    if (NP_END.has(w)) return false;
  }
  return false;
}

/**
 * The mark of one mention, tested in the official order: uncertainty cues that outrank negation, then
 * negation, then the remaining uncertainty cues (with the stable-silhouette quirk).
 */
export function markOf(a: Analysis, m: Mention): Mark | undefined {
  if (matches(a, PRE_NEGATION_UNCERTAINTY, m)) return 'uncertainty';
  // Read as the sentence's verb, the word is in no noun phrase: no "no ..." and no "A or B" reaches it.
  const verb = readAsVerb(a, m);
  if (matches(a, NEGATION, m) && !verb) return 'negation';
  if (matches(a, UNCERTAINTY, m) || (inAlternatives(a, m) && !verb)) return 'uncertainty';
  if (isStableSilhouette(a, m)) return 'uncertainty';
  return undefined;
}

/**
 * In a sentence without a verb ("no displaced rib fractures."), a plural that can be read as a verb, right after
 * a noun, is taken for the sentence's verb by the official labeler's parser, which puts it outside the negation.
 */
function readAsVerb(a: Analysis, m: Mention): boolean {
  const token = word(a, m.first);
  if (m.last - m.first !== 1 || !VERB_LIKE_PLURALS.has(token) || !NOUN_MODIFIERS.has(word(a, m.first - 1)))
    return false;
  return !hasFiniteVerb(a);
}

function isStableSilhouette(a: Analysis, m: Mention): boolean {
  if (m.observation !== 'Enlarged Cardiomediastinum' && m.observation !== 'Cardiomegaly') return false;
  if (!STABLE_HEADS.test(word(a, m.last - 1)) || !isHead(a, m) || m.phrase.includes('enlarge')) return false;
  return matches(a, STABLE, m);
}
