import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBinary } from '../../../src/eval/labels/chexbert.js';
import {
  ChexbertLabeler,
  type ChexbertResult,
  labelerTensors,
  planBatches,
} from '../../../src/eval/labels/chexbert-labeler.js';
import { bertConfigFromJson } from '../../../src/models/index.js';
import { WordPieceTokenizer } from '../../../src/tokenizer/index.js';
import { openTensorFile } from '../../../src/weights/index.js';
import { FIXTURES } from '../../helpers.js';

const DIR = join(FIXTURES, 'oracle', 'chexbert-tiny');
/** The manifest's tolerance for head logits (float32 kernel differences, no more). */
const LOGIT_TOLERANCE = 1e-4;

interface GoldenText {
  id: string;
  text: string;
  input_ids: number[];
  classes: number[];
  labels_rrg: number[];
  labels_rrg_plus: number[];
  logits_batched: number[][];
  logits_single: number[][];
  cls_single: number[];
}
const golden = JSON.parse(readFileSync(join(DIR, 'chexbert_golden.json'), 'utf8')) as { texts: GoldenText[] };
const texts = golden.texts.map((t) => t.text);

function maxAbsDiff(
  a: readonly number[][] | Float32Array,
  b: readonly number[][] | readonly number[],
): number {
  const x = Array.isArray(a) ? a.flat() : [...(a as Float32Array)];
  const y = (b as unknown[]).flat() as number[];
  expect(x.length).toBe(y.length);
  return Math.max(...x.map((v, i) => Math.abs(v - y[i]!)));
}

const open = (opts: { maxBatch?: number; batchTokens?: number } = {}) =>
  ChexbertLabeler.open(join(DIR, 'chexbert.pth'), {
    vocabPath: join(DIR, 'vocab.txt'),
    configPath: join(DIR, 'config.json'),
    threads: 1,
    ...opts,
  });

describe('CheXbert labeler on the tiny oracle checkpoint', () => {
  let labeler: ChexbertLabeler;
  let batched: ChexbertResult[];
  beforeAll(async () => {
    labeler = await open({ maxBatch: 16 });
    batched = await labeler.label(texts);
  });
  afterAll(() => labeler.close());

  it('encodes all 46 texts to the official ids', () => {
    expect(batched.map((r) => r.ids)).toEqual(golden.texts.map((t) => t.input_ids));
  });

  it('gives the official classes and both label conventions for all 46 texts', () => {
    expect(batched.map((r) => r.classes)).toEqual(golden.texts.map((t) => t.classes));
    expect(batched.map((r) => toBinary(r.classes, 'rrg'))).toEqual(golden.texts.map((t) => t.labels_rrg));
    expect(batched.map((r) => toBinary(r.classes, 'rrg+'))).toEqual(
      golden.texts.map((t) => t.labels_rrg_plus),
    );
  });

  it('gives head logits within 1e-4 of the official single-sequence path, and its CLS vectors', () => {
    const worst = Math.max(...batched.map((r, i) => maxAbsDiff(r.logits, golden.texts[i]!.logits_single)));
    const worstCls = Math.max(...batched.map((r, i) => maxAbsDiff(r.cls, golden.texts[i]!.cls_single)));
    console.info(
      `chexbert tiny: max |logit - golden| ${worst.toExponential(2)}, CLS ${worstCls.toExponential(2)}`,
    );
    expect(worst).toBeLessThanOrEqual(LOGIT_TOLERANCE);
    expect(worstCls).toBeLessThanOrEqual(LOGIT_TOLERANCE);
  });

  it('reproduces the official padded batch (all 46 padded to 512) within 1e-4', async () => {
    const oneBatch = await open({ batchTokens: 46 * 512, maxBatch: 128 });
    try {
      const results = await oneBatch.label(texts);
      const worst = Math.max(...results.map((r, i) => maxAbsDiff(r.logits, golden.texts[i]!.logits_batched)));
      expect(worst).toBeLessThanOrEqual(LOGIT_TOLERANCE);
      expect(results.map((r) => r.classes)).toEqual(golden.texts.map((t) => t.classes));
    } finally {
      await oneBatch.close();
    }
  });

  it('gives identical ids, classes and labels one report at a time and batched', async () => {
    const single = await open({ maxBatch: 1 });
    try {
      const alone = await single.label(texts);
      expect(alone.map((r) => r.ids)).toEqual(batched.map((r) => r.ids));
      expect(alone.map((r) => r.classes)).toEqual(batched.map((r) => r.classes));
      const worst = Math.max(...alone.map((r, i) => maxAbsDiff(r.logits, batched[i]!.logits)));
      expect(worst).toBeLessThan(1e-5);
    } finally {
      await single.close();
    }
  });
});

describe('repeated texts and progress', () => {
  it('labels identical texts once and reports progress over the unique ones', async () => {
    const labeler = await open({ maxBatch: 2 });
    try {
      const progress: Array<[number, number]> = [];
      const three = [texts[0]!, texts[1]!, texts[0]!];
      const results = await labeler.label(three, (done, total) => progress.push([done, total]));
      expect(results[2]).toBe(results[0]);
      expect(results.map((r) => r.classes)).toEqual([0, 1, 0].map((i) => golden.texts[i]!.classes));
      expect(progress.at(-1)).toEqual([2, 2]);
    } finally {
      await labeler.close();
    }
  });
});

describe('configs the labeler cannot run', () => {
  it('refuses a model with fewer than 512 positions before building anything', async () => {
    const file = await openTensorFile(join(DIR, 'chexbert.pth'));
    try {
      const config = bertConfigFromJson(
        JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8')),
        'config.json',
      );
      const tokenizer = WordPieceTokenizer.fromVocabFile(join(DIR, 'vocab.txt'));
      await expect(
        ChexbertLabeler.fromTensors(labelerTensors(file), tokenizer, {
          ...config,
          maxPositionEmbeddings: 256,
        }),
      ).rejects.toThrow(/max_position_embeddings.*at least 512/);
    } finally {
      await file.close();
    }
  });
});

describe('batch planning', () => {
  it('sorts by length, caps batch size and padded tokens, and covers every index once', () => {
    const lengths = [10, 512, 3, 10, 200, 7];
    const batches = planBatches(lengths, 1024, 2);
    expect(batches.flat().sort()).toEqual([0, 1, 2, 3, 4, 5]);
    for (const b of batches) {
      expect(b.length).toBeLessThanOrEqual(2);
      expect(b.length * Math.max(...b.map((i) => lengths[i]!))).toBeLessThanOrEqual(1024);
    }
    expect(batches[0]).toEqual([2, 5]);
    expect(planBatches([600], 512, 4)).toEqual([[0]]);
  });
});
