/**
 * The cue vocabulary of the scope rules in scope.ts: word classes that bound a clause, a noun phrase or a
 * predicate, and the negation and uncertainty cues, each with the way it reaches a mention.
 */

/** Words that open a new clause: no cue reaches across them. */
export const CLAUSE_BREAK = new Set([
  ';',
  ':',
  '.',
  '(',
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
export const COPULA = new Set(['is', 'are', 'was', 'were', 'be', 'been', 'being']);
/** Other verbs linking a subject to a predicate: the predicate reaches only the subject's head nouns. */
export const LINKING_VERB = new Set([
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
export const PREDICATE_ADVERB = new Set([
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
export const COORDINATED_PREDICATE = new Set(['and', 'but', 'stable', 'unchanged', 'normal', 'enlarged']);
export const PREPOSITION = new Set([
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
export const NP_END = new Set([
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
  'besides',
]);

export function words(alternatives: string[]): RegExp {
  return new RegExp(`(?<=^| )(?:${alternatives.join('|')})(?= |$)`, 'g');
}

export type Reach = 'clause' | 'phrase' | 'conjuncts';

export interface CueSet {
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

export const NEVER = /(?!)/g;

export const PRE_NEGATION_UNCERTAINTY: CueSet = {
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

export const NEGATION: CueSet = {
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

export const UNCERTAINTY: CueSet = {
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
export const STABLE: CueSet = {
  forward: NEVER,
  modifier: NEVER,
  complement: words(['(?:stable|unchanged) appearance of(?: the)?', 'stable', 'unchanged', 'borderline']),
  backward: words(['stable', 'unchanged']),
  backwardHeadsOnly: false,
  backwardNeedsVerb: true,
};
export const STABLE_HEADS = /^(?:size|silhouettes?|contours?|heart|mediastinum|shadow|configuration)$/;

/** Words that join alternatives: a noun among them is uncertain ("atelectasis or scarring"). */
export const ALTERNATIVE = new Set(['or', 'versus', 'vs']);
/** How many modifier words may stand between an alternative's joining word and its noun. */
export const MAX_MODIFIERS = 3;

export const VERB_LIKE_PLURALS = new Set(['fractures', 'consolidations']);
export const NOUN_MODIFIERS = new Set(['rib', 'ribs', 'airspace', 'xxxx', 'clavicle', 'bone']);
export const FINITE_VERB = new Set([
  ...COPULA,
  ...LINKING_VERB,
  'demonstrate',
  'demonstrates',
  'show',
  'shows',
  'reveal',
  'reveals',
]);
