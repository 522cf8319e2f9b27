/**
 * Turning a template into judge messages: section splitting, placeholder checks, the two answer formats (the
 * original list form and JSON for structured backends), and the prompt hash that enters the signature.
 */
import { createHash } from 'node:crypto';
import { inputError } from '../../errors.js';
import type { ChatMessage, JsonSchema } from '../../judge/index.js';
import {
  ERROR_TYPES,
  type ErrorCounts,
  MAX_COUNT_PER_TYPE,
  SIGNIFICANCE,
  type TypeCounts,
  zeroTypeCounts,
} from './counts.js';
import { DEFAULT_EXAMPLES, DEFAULT_TEMPLATE, type PromptExample } from './template.js';

export type AnswerFormat = 'list' | 'json';
export const ANSWER_FORMATS: readonly AnswerFormat[] = ['list', 'json'];

const REQUIRED_PLACEHOLDERS = ['reference', 'candidate'] as const;
const OPTIONAL_PLACEHOLDERS = ['output_format', 'examples'] as const;
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
const SECTION = /^\[\[(system|user)\]\][ \t]*$/gm;
/** Characters of the hash kept in signatures: enough to tell prompts apart, short enough to read. */
const HASH_CHARS = 12;

export interface PromptTemplate {
  /** Where it came from: `builtin` or the file path. */
  source: string;
  system?: string;
  user: string;
  examples: PromptExample[];
}

/** Parse and check a template text; `source` names it in errors. */
export function parseTemplate(text: string, source: string): PromptTemplate {
  const sections = splitSections(text, source);
  const all = `${sections.system ?? ''}\n${sections.user}`;
  const names = new Set([...all.matchAll(PLACEHOLDER)].map((m) => m[1]!));
  const known = new Set<string>([...REQUIRED_PLACEHOLDERS, ...OPTIONAL_PLACEHOLDERS]);
  for (const name of names) {
    if (!known.has(name)) {
      throw inputError('chexprompt.template_placeholder', `unknown placeholder {{${name}}}`, {
        file: source,
        expected: [...known].map((k) => `{{${k}}}`).join(', '),
      });
    }
  }
  for (const name of REQUIRED_PLACEHOLDERS) {
    if (!names.has(name)) {
      throw inputError('chexprompt.template_placeholder', `the template never uses {{${name}}}`, {
        file: source,
      });
    }
  }
  return { source, ...sections, examples: DEFAULT_EXAMPLES };
}

export function defaultTemplate(): PromptTemplate {
  return parseTemplate(DEFAULT_TEMPLATE, 'builtin');
}

function splitSections(text: string, source: string): { system?: string; user: string } {
  const marks = [...text.matchAll(SECTION)];
  if (marks.length === 0) return { user: text.trim() };
  if (text.slice(0, marks[0]!.index).trim() !== '') {
    throw inputError('chexprompt.template_sections', 'text before the first [[system]]/[[user]] marker', {
      file: source,
    });
  }
  const parts: Record<string, string> = {};
  marks.forEach((m, i) => {
    const end = i + 1 < marks.length ? marks[i + 1]!.index : text.length;
    if (parts[m[1]!] !== undefined) {
      throw inputError('chexprompt.template_sections', `[[${m[1]}]] appears twice`, { file: source });
    }
    parts[m[1]!] = text.slice(m.index + m[0].length, end).trim();
  });
  if (!parts.user) throw inputError('chexprompt.template_sections', 'no [[user]] section', { file: source });
  return { system: parts.system, user: parts.user };
}

const FORMAT_INSTRUCTIONS: Record<AnswerFormat, string> = {
  list: `Answer with exactly these two lines and nothing else, giving every type its count (0 when there is none):
Clinically significant errors: [(A, n), (B, n), (C, n), (D, n), (E, n), (F, n)]
Clinically insignificant errors: [(A, n), (B, n), (C, n), (D, n), (E, n), (F, n)]`,
  json: `Answer with one JSON object and nothing else, giving every type its count (0 when there is none):
{"significant": {"A": n, "B": n, "C": n, "D": n, "E": n, "F": n}, "insignificant": {"A": n, "B": n, "C": n, "D": n, "E": n, "F": n}}`,
};

export function formatInstructions(format: AnswerFormat): string {
  return FORMAT_INSTRUCTIONS[format];
}

/** Write counts the way the format asks the judge to (used for the worked examples). */
export function formatAnswer(counts: ErrorCounts, format: AnswerFormat): string {
  if (format === 'json') return JSON.stringify(counts);
  const list = (c: TypeCounts) => `[${ERROR_TYPES.map((t) => `(${t}, ${c[t]})`).join(', ')}]`;
  return `Clinically significant errors: ${list(counts.significant)}\nClinically insignificant errors: ${list(counts.insignificant)}`;
}

function exampleCounts(e: PromptExample): ErrorCounts {
  return {
    significant: { ...zeroTypeCounts(), ...e.significant },
    insignificant: { ...zeroTypeCounts(), ...e.insignificant },
  };
}

function renderExamples(examples: PromptExample[], format: AnswerFormat): string {
  const blocks = examples.map(
    (e, i) =>
      `Example ${i + 1}\nREFERENCE: ${e.reference}\nCANDIDATE: ${e.candidate}\nAnswer:\n${formatAnswer(exampleCounts(e), format)}`,
  );
  return `Worked examples:\n\n${blocks.join('\n\n')}\n\nNow the report to judge.`;
}

function fill(text: string, values: Record<string, string>): string {
  // One pass, so a report that happens to contain "{{candidate}}" is never substituted again.
  return text.replace(PLACEHOLDER, (_m, name: string) => values[name] ?? '');
}

/** The judge messages for one pair. */
export function renderPrompt(
  template: PromptTemplate,
  format: AnswerFormat,
  pair: { reference: string; candidate: string },
): ChatMessage[] {
  const values = {
    reference: pair.reference,
    candidate: pair.candidate,
    output_format: formatInstructions(format),
    examples: renderExamples(template.examples, format),
  };
  const messages: ChatMessage[] = [];
  if (template.system) messages.push({ role: 'system', content: fill(template.system, values) });
  messages.push({ role: 'user', content: fill(template.user, values) });
  return messages;
}

/** Hash of everything the judge sees except the two reports: template, format text and examples. */
export function promptHash(template: PromptTemplate, format: AnswerFormat): string {
  const skeleton = renderPrompt(template, format, { reference: '{{reference}}', candidate: '{{candidate}}' });
  return createHash('sha256').update(JSON.stringify(skeleton)).digest('hex').slice(0, HASH_CHARS);
}

/** The follow-up turn after an answer that could not be read. */
export function formatReminder(format: AnswerFormat): string {
  return `That answer could not be read. ${formatInstructions(format)}`;
}

/** The JSON schema of a JSON-format answer; grammars and structured output enforce it. */
export function answerSchema(): JsonSchema {
  const count = { enum: Array.from({ length: MAX_COUNT_PER_TYPE + 1 }, (_, i) => i) };
  const types = {
    type: 'object',
    properties: Object.fromEntries(ERROR_TYPES.map((t) => [t, count])),
    required: [...ERROR_TYPES],
    additionalProperties: false,
  };
  return {
    type: 'object',
    properties: Object.fromEntries(SIGNIFICANCE.map((s) => [s, types])),
    required: [...SIGNIFICANCE],
    additionalProperties: false,
  };
}
