import { describe, expect, it } from 'vitest';
import {
  defaultTemplate,
  type ErrorCounts,
  formatAnswer,
  parseAnswer,
} from '../../src/eval/chexprompt/index.js';

const zero = { A: 0, B: 0, C: 0, D: 0, E: 0, F: 0 };
const counts = (sig: Partial<typeof zero>, insig: Partial<typeof zero>): ErrorCounts => ({
  significant: { ...zero, ...sig },
  insignificant: { ...zero, ...insig },
});

describe('parseAnswer: accepted forms', () => {
  const cases: [string, string, ErrorCounts, 'json' | 'list'][] = [
    [
      'our list format',
      'Clinically significant errors: [(A, 1), (B, 0), (C, 2), (D, 0), (E, 0), (F, 0)]\nClinically insignificant errors: [(A, 0), (B, 3), (C, 0), (D, 0), (E, 0), (F, 1)]',
      counts({ A: 1, C: 2 }, { B: 3, F: 1 }),
      'list',
    ],
    [
      'tuple form ((A, 1), ...)',
      'Significant: ((A, 1), (B, 0), (C, 0), (D, 0), (E, 0), (F, 0))\nInsignificant: ((A, 0), (B, 2), (C, 0), (D, 0), (E, 0), (F, 0))',
      counts({ A: 1 }, { B: 2 }),
      'list',
    ],
    [
      'unlabelled lists in order, only types with errors',
      '[(A, 2)]\n[(D, 1)]',
      counts({ A: 2 }, { D: 1 }),
      'list',
    ],
    [
      'explanations before, between and after',
      'Let me compare the two reports.\nThe candidate invents an effusion (type A).\nClinically significant errors: [(A, 1)]\nThe spine comment is missing, which is minor.\nClinically insignificant errors: [(B, 1)]\nOverall the candidate is mostly right (C, 0 errors).',
      counts({ A: 1 }, { B: 1 }),
      'list',
    ],
    [
      'insignificant listed first, quoted letters, lower case, colons',
      "clinically insignificant: [('b', 1)]\nclinically significant: [('a': 3)]",
      counts({ A: 3 }, { B: 1 }),
      'list',
    ],
    [
      'prose between the lists naming another level: the level word right before a list wins',
      'Clinically insignificant errors: [(B, 1)]\nOnly the missed spine change is insignificant.\nClinically significant errors: [(A, 1)]',
      counts({ A: 1 }, { B: 1 }),
      'list',
    ],
    [
      'empty lists mean no errors',
      'Significant errors: []\nInsignificant errors: []',
      counts({}, {}),
      'list',
    ],
    [
      'not clinically significant counts as insignificant',
      'Clinically significant: [(A, 1)]\nNot clinically significant: [(C, 1)]',
      counts({ A: 1 }, { C: 1 }),
      'list',
    ],
    [
      'JSON objects',
      '{"significant": {"A": 0, "B": 1, "C": 0, "D": 0, "E": 0, "F": 0}, "insignificant": {"A": 2, "B": 0, "C": 0, "D": 0, "E": 0, "F": 0}}',
      counts({ B: 1 }, { A: 2 }),
      'json',
    ],
    [
      'JSON in a code fence with prose, pairs and other key spellings',
      'Here you go:\n```json\n{"clinically_significant": [["A", 1]], "clinically_insignificant": {"e": 1}}\n```',
      counts({ A: 1 }, { E: 1 }),
      'json',
    ],
  ];
  for (const [name, text, expected, form] of cases) {
    it(name, () => {
      const r = parseAnswer(text);
      expect(r).toEqual({ ok: true, counts: expected, form });
    });
  }

  it('reads back every answer format it writes', () => {
    const c = counts({ A: 1, F: 4 }, { B: 2, C: 20 });
    for (const format of ['list', 'json'] as const) {
      expect(parseAnswer(formatAnswer(c, format))).toEqual({ ok: true, counts: c, form: format });
    }
  });

  it('parses the worked examples of the default prompt as written', () => {
    const t = defaultTemplate();
    expect(t.examples.length).toBeGreaterThanOrEqual(3);
    for (const e of t.examples) {
      const c = counts(e.significant, e.insignificant);
      expect(parseAnswer(formatAnswer(c, 'list'))).toMatchObject({ ok: true, counts: c });
    }
  });
});

describe('parseAnswer: rejected answers (never silently zero)', () => {
  const bad: [string, string, RegExp][] = [
    ['no counts at all', 'The candidate report looks fine to me.', /no error counts/],
    ['empty answer', '', /no error counts/],
    ['one list only', 'Clinically significant errors: [(A, 1)]', /found 1 list/],
    ['unknown type letter', 'Significant: [(G, 1)]\nInsignificant: []', /unknown error type "G"/],
    ['a type twice', 'Significant: [(A, 1), (A, 2)]\nInsignificant: []', /type A appears twice/],
    ['negative count', 'Significant: [(A, -1)]\nInsignificant: []', /whole number/],
    ['fractional count', 'Significant: [(A, 1.5)]\nInsignificant: []', /whole number/],
    ['runaway count', 'Significant: [(A, 99)]\nInsignificant: []', /0\.\.20/],
    ['truncated list', 'Clinically significant errors: [(A, 1), (B, 0), (C', /unreadable list/],
    ['three unlabelled lists', '[(A, 1)]\n[(B, 1)]\n[(C, 1)]', /found 3 list/],
    [
      'two lists for one level',
      'Significant: [(A, 1)]\nSignificant: [(B, 1)]',
      /two lists for "significant"/,
    ],
    ['JSON missing a level', '{"significant": {"A": 1}}', /no "insignificant" key/],
    ['JSON string counts', '{"significant": {"A": "1"}, "insignificant": {}}', /whole number/],
  ];
  for (const [name, text, reason] of bad) {
    it(name, () => {
      const r = parseAnswer(text);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(reason);
    });
  }
});
