import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildPrompt,
  postprocessFindings,
  promptIds,
  pythonStrip,
  tokenizePrompt,
} from '../../src/llava/prompt.js';
import { IMAGE_TOKEN_ID } from '../../src/llava/types.js';
import { LlamaTokenizer } from '../../src/tokenizer/index.js';
import { readNpy } from '../../src/util/npy.js';
import { FIXTURES } from '../helpers.js';
import { BASE_DIR, PROMPT_OPTIONS, TINY_A, tinyManifest } from './tiny-a-cases.js';

const manifest = tinyManifest;
const tokenizer = LlamaTokenizer.fromFile(join(BASE_DIR, 'tokenizer.model'));
const OPTIONS = PROMPT_OPTIONS;

describe('the v1 prompt', () => {
  it('covers every golden prompt', () => {
    expect(Object.keys(OPTIONS).sort()).toEqual(Object.keys(manifest.prompts).sort());
    expect(manifest.prompts.b_indication_with_newline!.reason).toContain('\n');
  });

  it.each(Object.keys(OPTIONS))('%s: text and ids equal the golden', (id) => {
    const golden = manifest.prompts[id]!;
    expect(buildPrompt(OPTIONS[id])).toBe(golden.prompt);
    const ids = Array.from(readNpy(join(TINY_A, golden.input_ids_file)).data as BigInt64Array, Number);
    expect(promptIds(tokenizer, OPTIONS[id])).toEqual(ids);
    expect(ids.filter((t) => t === IMAGE_TOKEN_ID)).toHaveLength(1);
  });

  it('matches the tokenizer golden for the same prompts', () => {
    const golden = JSON.parse(readFileSync(join(FIXTURES, 'tokenizer', 'tokenizer_golden.json'), 'utf8')) as {
      tokenizer_image_token_prompts: Record<string, { prompt: string; input_ids: number[] }>;
    };
    for (const p of Object.values(golden.tokenizer_image_token_prompts))
      expect(tokenizePrompt(p.prompt, tokenizer)).toEqual(p.input_ids);
  });

  it('rejects an indication with the model-card instruction', () => {
    expect(() => buildPrompt({ instruction: 'model-card', indication: 'cough' })).toThrow(/no indication/);
  });
});

describe('answer post-processing', () => {
  it.each([
    ['  The lungs are clear.  ', 'The lungs are clear.'],
    ['The lungs are clear.</s>', 'The lungs are clear.'],
    ['The lungs are clear. </s> \n', 'The lungs are clear.'],
    ['</s>x</s></s>', '</s>x</s>'],
    ['\u0085text\u001f', 'text'],
  ])('%j -> %j', (raw, expected) => {
    expect(postprocessFindings(raw)).toBe(expected);
  });

  it.each(manifest.cases.map((c) => [`${c.image} ${c.prompt_id}`, c] as const))(
    'golden case %s decodes and post-processes like the reference',
    (_, c) => {
      const decoded = tokenizer.decode(c.generated_ids, { skipSpecialTokens: true });
      expect(decoded).toBe(c.decoded_batch_decode_skip_special);
      expect(postprocessFindings(decoded)).toBe(c.prediction_after_eval_postprocessing);
    },
  );

  it('strips like Python, not like String.prototype.trim', () => {
    expect(pythonStrip('\ufeffa\ufeff')).toBe('\ufeffa\ufeff');
    expect(pythonStrip('\u3000a\x1c')).toBe('a');
  });
});
