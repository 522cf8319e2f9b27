/**
 * The rule-based CheXpert labeler: per sentence, find mentions (lexicon.ts), mark each as negated or uncertain
 * (scope.ts), pass marks on to the mentions inside a marked one; then combine the mentions of each observation
 * and set No Finding (SPEC.md §5 and §6).
 */
import { LEXICON } from './lexicon.js';
import { findMentions, type Mention } from './mentions.js';
import {
  CHEXPERT_OBSERVATIONS,
  type Labels14,
  type LabelValue,
  NEGATIVE,
  type Observation,
  POSITIVE,
  UNCERTAIN,
} from './observations.js';
import { analyse, type Mark, markOf } from './scope.js';
import { sentencesOf } from './text.js';

/** Mentions whose positive or uncertain reading also makes Cardiomegaly uncertain. */
const HEART_FAILURE_PHRASES = new Set(['heart failure', 'chf']);

interface Judged {
  mention: Mention;
  /** Marks found on the mention itself or passed on from a mention containing it. */
  marks: Set<Mark>;
  /** The mark found on the mention itself. */
  own: Mark | undefined;
}

function firstStartingAt(sorted: Judged[], start: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]!.mention.start < start) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Marks of each mention of one sentence, each passed on to the mentions contained in it. */
function judgeSentence(sentence: ReturnType<typeof sentencesOf>[number]): Judged[] {
  const analysis = analyse(sentence.tokens);
  const judged = findMentions(sentence).map((mention): Judged => {
    const own = markOf(analysis, mention);
    return { mention, marks: new Set<Mark>(own ? [own] : []), own };
  });
  // Mentions in text order: those inside a marked one start within its span.
  const byStart = [...judged].sort((x, y) => x.mention.start - y.mention.start);
  for (const outer of judged) {
    if (!outer.own) continue;
    for (let i = firstStartingAt(byStart, outer.mention.start); i < byStart.length; i++) {
      const inner = byStart[i]!;
      if (inner.mention.start >= outer.mention.end) break;
      if (inner.mention.end <= outer.mention.end) inner.marks.add(outer.own);
    }
  }
  return judged;
}

function mentionValue(marks: Set<Mark>): 1 | 0 | -1 {
  if (marks.has('negation')) return NEGATIVE;
  if (marks.has('uncertainty')) return UNCERTAIN;
  return POSITIVE;
}

/** Several mentions of one observation: negative + uncertain is uncertain, else positive wins. */
function combine(values: Array<1 | 0 | -1>): LabelValue {
  if (values.length === 0) return null;
  const has = (v: number) => values.includes(v as 1 | 0 | -1);
  if (has(NEGATIVE) && has(UNCERTAIN)) return UNCERTAIN;
  if (has(POSITIVE)) return POSITIVE;
  return values[0]!;
}

/**
 * Labels of one report: 1 positive, 0 negative, -1 uncertain, null not mentioned. No Finding is 1 when nothing
 * but support devices is affirmed (positive or uncertain), including the other abnormalities of the lexicon.
 */
export function labelReport(text: string): Labels14 {
  const values = new Map<Observation, Array<1 | 0 | -1>>();
  const add = (o: Observation, v: 1 | 0 | -1) => {
    const list = values.get(o);
    if (list) list.push(v);
    else values.set(o, [v]);
  };
  let finding = false;
  for (const sentence of sentencesOf(text)) {
    for (const { mention, marks } of judgeSentence(sentence)) {
      let v = mentionValue(marks);
      if (v === POSITIVE && LEXICON[mention.observation].suggestive?.includes(mention.phrase)) v = UNCERTAIN;
      const affirmed = v !== NEGATIVE;
      if (affirmed && mention.observation !== 'Support Devices') finding = true;
      if (mention.observation === 'No Finding') continue;
      if (affirmed && HEART_FAILURE_PHRASES.has(mention.phrase)) add('Cardiomegaly', UNCERTAIN);
      add(mention.observation, v);
    }
  }
  const labels = {} as Labels14;
  for (const o of CHEXPERT_OBSERVATIONS) labels[o] = combine(values.get(o) ?? []);
  labels['No Finding'] = finding ? null : POSITIVE;
  return labels;
}

/** Labels of each report, in order. */
export function labelReports(texts: readonly string[]): Labels14[] {
  return texts.map(labelReport);
}
