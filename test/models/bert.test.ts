import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BERT_BASE_UNCASED,
  type BertConfig,
  bertConfigFromJson,
  buildChexbertGraph,
  validateChexbertWeights,
} from '../../src/models/index.js';
import { openTensorFile, prefixView, type TensorSource } from '../../src/weights/index.js';
import { FIXTURES } from '../helpers.js';

const DIR = join(FIXTURES, 'oracle', 'chexbert-tiny');
const CONFIG_FILE = join(DIR, 'config.json');
const configJson = JSON.parse(readFileSync(CONFIG_FILE, 'utf8')) as Record<string, unknown>;
const tiny = bertConfigFromJson(configJson, CONFIG_FILE);

describe('BERT config', () => {
  it('reads the Hugging Face config.json of the fixture', () => {
    expect(tiny).toEqual({
      vocabSize: 30522,
      hiddenSize: 64,
      numHiddenLayers: 2,
      numAttentionHeads: 4,
      intermediateSize: 128,
      maxPositionEmbeddings: 512,
      typeVocabSize: 2,
      layerNormEps: 1e-12,
    });
  });

  it('names the file and field of a bad config', () => {
    const { hidden_size: _, ...noHidden } = configJson;
    expect(() => bertConfigFromJson(noHidden, 'c.json')).toThrow(/c\.json: hidden_size/);
    expect(() => bertConfigFromJson({ ...configJson, hidden_act: 'relu' }, 'c.json')).toThrow(
      /hidden_act.*expected gelu; found relu/,
    );
  });
});

describe('CheXbert weights against the config', () => {
  let file: TensorSource;
  let weights: TensorSource;
  beforeAll(async () => {
    file = await openTensorFile(join(DIR, 'chexbert.pth'), { key: 'model_state_dict' });
    weights = prefixView(file, 'module.');
  });
  afterAll(() => file.close());

  it('accepts the tiny checkpoint with its config', () => {
    expect(() => validateChexbertWeights(weights, tiny)).not.toThrow();
  });

  it('names the first tensor that does not fit bert-base-uncased', () => {
    expect(() => validateChexbertWeights(weights, BERT_BASE_UNCASED)).toThrow(
      /bert\.embeddings\.word_embeddings\.weight.*expected \[30522,768\]; found \[30522,64\]/,
    );
  });

  it('rejects layer counts that differ from the checkpoint and heads that do not divide the width', () => {
    const with_ = (o: Partial<BertConfig>) => ({ ...tiny, ...o });
    expect(() => validateChexbertWeights(weights, with_({ numHiddenLayers: 3 }))).toThrow(
      /encoder\.layer\.2/,
    );
    expect(() => validateChexbertWeights(weights, with_({ numHiddenLayers: 1 }))).toThrow(
      /more encoder layers/,
    );
    expect(() => validateChexbertWeights(weights, with_({ numAttentionHeads: 5 }))).toThrow(
      /multiple of the head/,
    );
  });

  it('builds post-norm layers with fused attention, exact GELU and a CLS-only last layer', () => {
    const g = buildChexbertGraph(weights, tiny);
    const count = (t: string) => g.opTypes().filter((o) => o === t).length;
    expect(count('com.microsoft.Attention')).toBe(1); // layer 0: q/k/v projection inside the kernel
    expect(count('com.microsoft.MultiHeadAttention')).toBe(1); // layer 1: one query row
    expect(count('com.microsoft.SkipLayerNormalization')).toBe(4);
    expect(count('com.microsoft.BiasGelu')).toBe(2);
    expect(count('LayerNormalization')).toBe(1);
    // the last layer projects the query of one row, the others q, k and v together
    const names = g.nodes.map((n) => n.name);
    expect(names.some((n) => n.startsWith('/model/layers.1/attn/q_proj/'))).toBe(true);
    expect(names).toContain('/model/layers.0/attn/Attention');
  });
});
