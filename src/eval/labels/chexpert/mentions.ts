import { LEXICON } from './lexicon.js';
import { CHEXPERT_OBSERVATIONS, type Observation } from './observations.js';
import type { Sentence } from './text.js';

/** One phrase match in a sentence: character span and the tokens it covers ([first, last)). */
export interface Mention {
  observation: Observation;
  phrase: string;
  start: number;
  end: number;
  first: number;
  last: number;
}

function occurrences(text: string, phrase: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  for (let at = text.indexOf(phrase); at >= 0; at = text.indexOf(phrase, at + phrase.length)) {
    spans.push([at, at + phrase.length]);
  }
  return spans;
}

/** Whether a span overlaps any of the exclusion spans (sorted by start; exclusions are short phrases). */
function excludedBy(spans: Array<[number, number]>, span: [number, number], longest: number): boolean {
  let lo = 0;
  let hi = spans.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (spans[mid]![0] <= span[0] - longest) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < spans.length && spans[i]![0] < span[1]; i++) {
    if (spans[i]![1] > span[0]) return true;
  }
  return false;
}

/** Index of the first token that ends after `char` (tokens are in order). */
function firstTokenEndingAfter(tokens: Sentence['tokens'], char: number): number {
  let lo = 0;
  let hi = tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tokens[mid]!.end <= char) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Every mention of every observation in a sentence. Different phrases may overlap ("the heart size" holds
 * "the heart" and "heart size"): each is its own mention, as in the official labeler.
 */
export function findMentions(sentence: Sentence): Mention[] {
  const found: Mention[] = [];
  const { text, tokens } = sentence;
  for (const observation of CHEXPERT_OBSERVATIONS) {
    const { mentions, exclusions } = LEXICON[observation];
    let excluded: Array<[number, number]> | undefined;
    const longest = Math.max(0, ...exclusions.map((x) => x.length));
    for (const phrase of mentions) {
      for (const span of occurrences(text, phrase)) {
        excluded ??= exclusions.flatMap((x) => occurrences(text, x)).sort((x, y) => x[0] - y[0]);
        if (excludedBy(excluded, span, longest)) continue;
        const first = firstTokenEndingAfter(tokens, span[0]);
        let last = first;
        while (last < tokens.length && tokens[last]!.start < span[1]) last++;
        found.push({ observation, phrase, start: span[0], end: span[1], first, last });
      }
    }
  }
  return found;
}
