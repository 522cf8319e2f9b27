/**
 * The LLaVA-Rad prompt (SPEC.md §3): the Vicuna "v1" conversation template around one user turn holding the
 * `<image>` placeholder and an instruction, tokenised chunk by chunk around the placeholder.
 */
import { inputError } from '../errors.js';
import type { LlamaTokenizer } from '../tokenizer/index.js';
import { IMAGE_TOKEN_ID } from './types.js';

/** Every piece of template text, as LLaVA's `conv_templates['v1']` and LLaVA-Rad's eval loader write them. */
export const PROMPT = {
  system:
    "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions.",
  userRole: 'USER',
  assistantRole: 'ASSISTANT',
  /** `sep` of the v1 template: after the system text and after the user's message. */
  separator: ' ',
  /** `sep2` of the v1 template; generation post-processing drops it from the end of the answer. */
  stopString: '</s>',
  imagePlaceholder: '<image>',
  /** Between the placeholder and the instruction (`mm_use_im_start_end` false). */
  imageSeparator: '\n',
  /** The instruction of LLaVA-Rad's evaluation without an indication. */
  findings: 'Provide a description of the findings in the radiology image.',
  /** ... and with one; the indication follows, its newlines turned into spaces. */
  findingsWithIndication:
    'Provide a description of the findings in the radiology image given the following indication: ',
  /** The query of the Hugging Face model card's example, verbatim (it ends with a newline). */
  modelCard: 'Describe the findings of the chest x-ray.\n',
} as const;

/**
 * - `findings`: LLaVA-Rad's evaluation instruction, with the indication when there is one (the default);
 * - `model-card`: the model card's example query used verbatim, trailing newline included;
 * - `model-card-stripped`: the same query after the evaluation script's rewrite (`strip()`).
 */
export type InstructionKind = 'findings' | 'model-card' | 'model-card-stripped';
export const INSTRUCTION_KINDS: readonly InstructionKind[] = [
  'findings',
  'model-card',
  'model-card-stripped',
];

export interface PromptOptions {
  instruction?: InstructionKind;
  /** Clinical indication; only `findings` takes one. As in the reference, only null/undefined mean "none". */
  indication?: string | null;
}

/** The user's message: placeholder, newline, instruction. */
export function buildUserMessage(options: PromptOptions = {}): string {
  const kind = options.instruction ?? 'findings';
  const indication = options.indication ?? null;
  if (indication !== null && kind !== 'findings')
    throw inputError('prompt.indication_unsupported', `the '${kind}' instruction takes no indication`, {
      field: 'indication',
    });
  const lead = PROMPT.imagePlaceholder + PROMPT.imageSeparator;
  switch (kind) {
    case 'findings':
      return indication === null
        ? lead + PROMPT.findings
        : lead + PROMPT.findingsWithIndication + indication.replaceAll('\n', ' ');
    case 'model-card':
      return lead + PROMPT.modelCard;
    case 'model-card-stripped':
      return pythonStrip(lead + PROMPT.modelCard);
    default:
      throw inputError('prompt.bad_instruction', 'unknown instruction', {
        field: 'instruction',
        expected: INSTRUCTION_KINDS.join(', '),
        found: String(kind),
      });
  }
}

/** The full v1 prompt, ending in `ASSISTANT:` with no trailing space. */
export function buildPrompt(options: PromptOptions = {}): string {
  return (
    PROMPT.system +
    PROMPT.separator +
    `${PROMPT.userRole}: ${buildUserMessage(options)}` +
    PROMPT.separator +
    `${PROMPT.assistantRole}:`
  );
}

/**
 * LLaVA's `tokenizer_image_token`: tokenise each `<image>`-separated chunk on its own (each gets its BOS and
 * dummy-prefix space), keep the first chunk's BOS only, and join the chunks with IMAGE_TOKEN_ID.
 */
export function tokenizePrompt(prompt: string, tokenizer: LlamaTokenizer): number[] {
  const chunks = prompt.split(PROMPT.imagePlaceholder).map((c) => tokenizer.encode(c));
  const first = chunks[0]!;
  const hasBos = first.length > 0 && first[0] === tokenizer.bosTokenId;
  const skip = hasBos ? 1 : 0;
  const ids: number[] = hasBos ? [tokenizer.bosTokenId] : [];
  chunks.forEach((chunk, i) => {
    if (i > 0) ids.push(IMAGE_TOKEN_ID);
    ids.push(...chunk.slice(skip));
  });
  return ids;
}

/** Prompt ids for an instruction/indication, with one IMAGE_TOKEN_ID. */
export function promptIds(tokenizer: LlamaTokenizer, options: PromptOptions = {}): number[] {
  return tokenizePrompt(buildPrompt(options), tokenizer);
}

/** Python's `str.isspace` characters, which `str.strip()` removes (JS `trim` differs: U+FEFF, U+001C-1F, U+0085). */
const PY_SPACE =
  '[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const PY_STRIP = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, 'g');

/** Python's `str.strip()` with no argument. */
export function pythonStrip(text: string): string {
  return text.replace(PY_STRIP, '');
}

/**
 * LLaVA-Rad's answer post-processing (SPEC.md §3, model_mimic_cxr.py): strip, drop a trailing `</s>`, strip.
 * `decoded` is the generated ids decoded with special tokens skipped.
 */
export function postprocessFindings(decoded: string): string {
  let text = pythonStrip(decoded);
  if (text.endsWith(PROMPT.stopString)) text = text.slice(0, -PROMPT.stopString.length);
  return pythonStrip(text);
}
