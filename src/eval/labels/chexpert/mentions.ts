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

const overlaps = (a: [number, number], b: [number, number]) => a[0] < b[1] && b[0] < a[1];

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
    for (const phrase of mentions) {
      for (const span of occurrences(text, phrase)) {
        excluded ??= exclusions.flatMap((x) => occurrences(text, x));
        if (excluded.some((x) => overlaps(x, span))) continue;
        let first = tokens.findIndex((t) => t.end > span[0]);
        if (first < 0) first = tokens.length;
        let last = first;
        while (last < tokens.length && tokens[last]!.start < span[1]) last++;
        found.push({ observation, phrase, start: span[0], end: span[1], first, last });
      }
    }
  }
  return found;
}
