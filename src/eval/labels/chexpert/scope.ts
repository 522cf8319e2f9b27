/**
 * Negation and uncertainty by cue phrases and scope rules, standing in for the official labeler's patterns on a
 * dependency parse. A cue either governs what follows it ("no", "possible", "cannot exclude"), or is a predicate
 * about the subject before it ("... is normal", "... cannot be excluded"), or modifies the noun phrase right after
 * it ("normal heart size", "stable cardiomediastinal silhouette").
 */
import type { Mention } from './mentions.js';
import type { Token } from './text.js';

export type Mark = 'negation' | 'uncertainty';

/** Words that open a new clause: no cue reaches across them. */
const CLAUSE_BREAK = new Set([
  ';',
  ':',
  '.',
  'but',
  'however',
  'although',
  'though',
  'whereas',
  'which',
  'while',
  'except',
  'who',
]);
/** True copulas: a predicate after one of them speaks of every noun in the subject. */
const COPULA = new Set(['is', 'are', 'was', 'were', 'be', 'been', 'being']);
/** Other verbs linking a subject to a predicate: the predicate reaches only the subject's head nouns. */
const LINKING_VERB = new Set([
  'appear',
  'appears',
  'appeared',
  'remain',
  'remains',
  'seem',
  'seems',
  'look',
  'looks',
]);
/** Words that may sit between a copula and its predicate. */
const PREDICATE_ADVERB = new Set([
  'otherwise',
  'again',
  'now',
  'grossly',
  'essentially',
  'overall',
  'also',
  'still',
  'entirely',
  'completely',
  'largely',
  'generally',
  'quite',
  'definitely',
  'clearly',
  'totally',
  'xxxx',
  'both',
  'all',
  'stably',
  'relatively',
  'within',
]);
/** Predicates coordinated with the one being tested ("is stable and normal"). */
const COORDINATED_PREDICATE = new Set(['and', 'but', 'stable', 'unchanged', 'normal', 'enlarged']);
const PREPOSITION = new Set([
  'of',
  'within',
  'in',
  'at',
  'on',
  'for',
  'with',
  'without',
  'to',
  'from',
  'by',
  'near',
  'over',
]);
/** Prepositions and verbs that end a noun phrase. */
const NP_END = new Set([
  ...CLAUSE_BREAK,
  ...COPULA,
  ...LINKING_VERB,
  ',',
  'and',
  'or',
  'versus',
  'vs',
  'with',
  'without',
  'of',
  'in',
  'at',
  'on',
  'to',
  'from',
  'for',
  'by',
  'along',
  'within',
  'over',
  'overlying',
  'near',
  'than',
  'since',
  'as',
  'may',
  'might',
  'could',
  'can',
  'cannot',
  'not',
  'no',
  'there',
  'represent',
  'represents',
  'representing',
  'reflect',
  'reflects',
  'reflecting',
  'compatible',
  'consistent',
  'suggesting',
  'suggestive',
  'likely',
  'probably',
  'possibly',
  'which',
  'that',
  'show',
  'shows',
  'demonstrate',
  'demonstrates',
  'noted',
  'seen',
  'identified',
  'present',
  'concerning',
  'suspicious',
  'measuring',
  'due',
  'related',
  'secondary',
  'involving',
  'projecting',
  'projected',
  'unchanged',
  'stable',
  'normal',
  'unremarkable',
  'enlarged',
  'given',
  'into',
]);

function words(alternatives: string[]): RegExp {
  return new RegExp(`(?<=^| )(?:${alternatives.join('|')})(?= |$)`, 'g');
}

type Reach = 'clause' | 'phrase' | 'conjuncts';

interface CueSet {
  /** Cues that govern the rest of their clause. */
  forward: RegExp;
  /** Cues that modify the noun phrase right after them. */
  modifier: RegExp;
  /** Cues whose reach is the noun phrase after them with all its conjuncts ("normal in size and contour"). */
  complement: RegExp;
  /** Whether a complement reaches through "of" ("normal size of the heart"). */
  complementThroughOf?: boolean;
  /** Predicates about the subject before them. */
  backward: RegExp;
  /** Whether a backward predicate after a linking verb other than a copula reaches non-head nouns too. */
  backwardHeadsOnly: boolean;
  /** Backward predicates that reach only head nouns even after a copula ("... are not enlarged"). */
  backwardHeads?: RegExp;
  /** Whether a backward predicate needs a verb between it and its subject. */
  backwardNeedsVerb?: boolean;
}

const NEVER = /(?!)/g;

const PRE_NEGATION_UNCERTAINTY: CueSet = {
  forward: words([
    '(?:cannot|can not|could not|not) (?:be )?(?:exclude|excluded|rule out|ruled out)',
    'difficult to exclude',
    'no new',
  ]),
  modifier: NEVER,
  complement: NEVER,
  backward: words([
    '(?:cannot|can not|could not|may not|not) (?:be )?(?:entirely |completely )?(?:excluded|ruled out)',
  ]),
  backwardHeadsOnly: false,
};

const NEGATION: CueSet = {
  forward: words([
    'no(?! (?:interval |significant |substantial )?change)',
    'not',
    'without',
    'negative for',
    'free of',
    'absence of',
    'clear of',
    'clearing of',
    'resolution of',
    'removal of',
    'nor',
    'neither',
    'rather than',
    'never',
  ]),
  modifier: words(['clear', 'absent']),
  complement: words([
    '(?:normal|within normal limits|unremarkable) (?:in|for)',
    'within normal limits ,',
    'normal',
    'normal-appearing',
    'unremarkable',
    'nonenlarged',
  ]),
  complementThroughOf: true,
  backward: words([
    'normal',
    '(?:near |at )?(?:the )?(?:upper |top |high )(?:limits? |range )?normal',
    'at the upper limits? of normal',
    'within (?:the )?normal limits',
    'within limits of normal',
    'unremarkable',
    'negative',
    'absent',
    '(?:has |have )?(?:been )?cleared',
    '(?:has |have )?(?:been )?resolved',
    'clear',
    'removed',
    'free',
  ]),
  backwardHeadsOnly: true,
  backwardHeads: words(['not', 'no longer']),
};

const UNCERTAINTY: CueSet = {
  forward: words([
    'possible',
    'possibly',
    'probable',
    'may',
    'might',
    'could',
    'suspicious for',
    'suspect',
    'suspected',
    'concern for',
    'concerning for',
    'questionable',
    'equivocal',
    'indeterminate',
    'less likely',
    'uncertain',
    'differential',
  ]),
  modifier: NEVER,
  complement: NEVER,
  backward: words(['possible', 'suspected', 'questioned', 'questionable', 'uncertain', 'less likely']),
  backwardHeadsOnly: false,
};

/** The cardiomediastinal quirk: a stable or unchanged silhouette, contour or heart size reads as uncertain. */
const STABLE: CueSet = {
  forward: NEVER,
  modifier: NEVER,
  complement: words(['(?:stable|unchanged) appearance of(?: the)?', 'stable', 'unchanged', 'borderline']),
  backward: words(['stable', 'unchanged']),
  backwardHeadsOnly: false,
  backwardNeedsVerb: true,
};
const STABLE_HEADS = /^(?:size|silhouettes?|contours?|heart|mediastinum|shadow|configuration)$/;

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
  for (let i = from; i < limit; i++) {
    const w = word(a, i);
    if (CLAUSE_BREAK.has(w)) return i;
    if (w === ',' && (word(a, i + 1) === 'there' || word(a, i + 1) === 'the' || word(a, i + 1) === 'this'))
      return i;
    if (i > from && w !== 'be' && w !== 'been' && (COPULA.has(w) || LINKING_VERB.has(w))) return i;
  }
  return limit;
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
  if (start > 0 && (COPULA.has(word(a, start - 1)) || LINKING_VERB.has(word(a, start - 1)))) {
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

/** Words that join alternatives: a noun among them is uncertain ("atelectasis or scarring"). */
const ALTERNATIVE = new Set(['or', 'versus', 'vs']);
/** How many modifier words may stand between an alternative's joining word and its noun. */
const MAX_MODIFIERS = 3;

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
  if (matches(a, NEGATION, m) && !readAsVerb(a, m)) return 'negation';
  if (matches(a, UNCERTAINTY, m) || inAlternatives(a, m)) return 'uncertainty';
  if (isStableSilhouette(a, m)) return 'uncertainty';
  return undefined;
}

/**
 * In a sentence without a verb ("no displaced rib fractures."), a plural that can be read as a verb, right after
 * a noun, is taken for the sentence's verb by the official labeler's parser, which puts it outside the negation.
 */
const VERB_LIKE_PLURALS = new Set(['fractures', 'consolidations']);
const NOUN_MODIFIERS = new Set(['rib', 'ribs', 'airspace', 'xxxx', 'clavicle', 'bone']);
const FINITE_VERB = new Set([
  ...COPULA,
  ...LINKING_VERB,
  'demonstrate',
  'demonstrates',
  'show',
  'shows',
  'reveal',
  'reveals',
]);

function readAsVerb(a: Analysis, m: Mention): boolean {
  const token = word(a, m.first);
  if (m.last - m.first !== 1 || !VERB_LIKE_PLURALS.has(token) || !NOUN_MODIFIERS.has(word(a, m.first - 1)))
    return false;
  a.hasFiniteVerb ??= a.tokens.some((t) => FINITE_VERB.has(t.text));
  return !a.hasFiniteVerb;
}

function isStableSilhouette(a: Analysis, m: Mention): boolean {
  if (m.observation !== 'Enlarged Cardiomediastinum' && m.observation !== 'Cardiomegaly') return false;
  if (!STABLE_HEADS.test(word(a, m.last - 1)) || !isHead(a, m) || m.phrase.includes('enlarge')) return false;
  return matches(a, STABLE, m);
}
