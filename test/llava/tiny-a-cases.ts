/** The tiny-a golden cases as cxr requests: which image file and which prompt options each one used. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PromptOptions } from '../../src/llava/prompt.js';
import { FIXTURES } from '../helpers.js';

export const TINY_A = join(FIXTURES, 'oracle', 'tiny-a');
export const LLAVA_DIR = join(TINY_A, 'llava-rad');
export const BASE_DIR = join(TINY_A, 'vicuna-7b-v1.5');
/** The images of the cases (the manifest's `inputs.image`, relative to fixtures/oracle/). */
export const IMAGE_DIR = join(FIXTURES, 'preprocess', 'inputs');

export interface TinyCase {
  image: string;
  prompt_id: string;
  generated_ids: number[];
  stopped_on_eos: boolean;
  decoded_batch_decode_skip_special: string;
  prediction_after_eval_postprocessing: string;
}

export const tinyManifest = JSON.parse(readFileSync(join(TINY_A, 'manifest.json'), 'utf8')) as {
  prompts: Record<string, { prompt: string; reason?: string | null; input_ids_file: string }>;
  cases: TinyCase[];
  generation: { call: string };
};

/** How each golden prompt was asked for (the manifest's `how` and `reason`). */
export const PROMPT_OPTIONS: Record<string, PromptOptions> = {
  a_no_indication: {},
  b_indication_with_newline: { indication: tinyManifest.prompts.b_indication_with_newline!.reason! },
  c_model_card: { instruction: 'model-card' },
  c_model_card_eval_rewrite: { instruction: 'model-card-stripped' },
};

/** The golden generation ran with max_new_tokens=24 (manifest.generation.call). */
export const GOLDEN_MAX_NEW_TOKENS = Number(/max_new_tokens=(\d+)/.exec(tinyManifest.generation.call)![1]);

/** CLI flags that reproduce a case's prompt. */
export function promptFlags(promptId: string): string[] {
  const o = PROMPT_OPTIONS[promptId]!;
  return [
    ...(o.instruction ? ['--instruction', o.instruction] : []),
    ...(o.indication ? ['--indication', o.indication] : []),
  ];
}
