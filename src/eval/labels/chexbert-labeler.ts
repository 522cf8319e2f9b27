/**
 * The CheXbert labeler: the user's chexbert.pth (torch zip or legacy, any storage device), the bert-base-uncased
 * vocabulary and config, an ONNX Runtime session, and batched inference with padding and attention masks.
 * Reports are sorted by length before batching so padding stays small; results come back in input order.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { inputError } from '../../errors.js';
import {
  BERT_BASE_UNCASED,
  type BertConfig,
  bertConfigFromJson,
  buildChexbertGraph,
  CHEXBERT_CLASSES,
  CHEXBERT_HEADS,
  CHEXBERT_IO,
  NO_FINDING_CLASSES,
} from '../../models/index.js';
import { CHEXBERT_MAX_IDS, WordPieceTokenizer } from '../../tokenizer/index.js';
import { openTensorFile, prefixView, type TensorSource } from '../../weights/index.js';

/** Where CheXbert's training script put the weights (beside the epoch and the optimizer state). */
export const CHEXBERT_STATE_DICT_KEY = 'model_state_dict';
/** DataParallel's name prefix. */
const DATA_PARALLEL_PREFIX = 'module.';
/** Padded tokens per batch (batch x longest): bounds activation memory (about 0.2 GB at BERT-base width). */
export const DEFAULT_BATCH_TOKENS = 8192;
/** The official code's batch size. */
export const DEFAULT_MAX_BATCH = 128;

export interface ChexbertOptions {
  /** Intra-op threads for ONNX Runtime (default: its own choice). */
  threads?: number;
  batchTokens?: number;
  maxBatch?: number;
}

export interface ChexbertLoadOptions extends ChexbertOptions {
  /** bert-base-uncased's vocab.txt. */
  vocabPath: string;
  /** A BERT config.json; default bert-base-uncased. */
  configPath?: string;
}

export type ProgressFn = (done: number, total: number) => void;

export interface ChexbertResult {
  /** [CLS] ... [SEP], at most 512 ids. */
  ids: number[];
  /** Argmax per head (CHEXBERT_CONDITIONS order): 0 blank, 1 positive, 2 negative, 3 uncertain. */
  classes: number[];
  /** Per head: 4 logits (2 for No Finding, the last). */
  logits: number[][];
  /** The last layer's CLS vector. */
  cls: Float32Array;
}

export class ChexbertLabeler {
  private constructor(
    readonly tokenizer: WordPieceTokenizer,
    readonly config: BertConfig,
    private readonly session: ort.InferenceSession,
    private readonly options: ChexbertOptions,
  ) {}

  /**
   * Load chexbert.pth (torch zip or legacy; its `model_state_dict`, or a bare state dict; `module.` prefix
   * optional) and build the session. Only the labeler's tensors are read (not the optimizer's moments).
   */
  static async open(weightsPath: string, opts: ChexbertLoadOptions): Promise<ChexbertLabeler> {
    const tokenizer = WordPieceTokenizer.fromVocabFile(opts.vocabPath);
    const config = opts.configPath ? readBertConfig(opts.configPath) : BERT_BASE_UNCASED;
    const file = await openTensorFile(weightsPath);
    try {
      return await ChexbertLabeler.fromTensors(labelerTensors(file), tokenizer, config, opts);
    } finally {
      await file.close();
    }
  }

  /** Build from tensors named as bert_labeler's state_dict (`bert.…`, `linear_heads.…`). */
  static async fromTensors(
    weights: TensorSource,
    tokenizer: WordPieceTokenizer,
    config: BertConfig,
    opts: ChexbertOptions = {},
  ): Promise<ChexbertLabeler> {
    if (tokenizer.idToToken.length > config.vocabSize)
      throw inputError('chexbert.vocab_mismatch', 'the vocabulary is larger than the model embedding table', {
        expected: `at most ${config.vocabSize} pieces`,
        found: String(tokenizer.idToToken.length),
      });
    if (config.maxPositionEmbeddings < CHEXBERT_MAX_IDS)
      throw inputError(
        'chexbert.short_positions',
        'the model has fewer positions than CheXbert reports use',
        {
          field: 'max_position_embeddings',
          expected: `at least ${CHEXBERT_MAX_IDS}`,
          found: String(config.maxPositionEmbeddings),
        },
      );
    const model = await buildChexbertGraph(weights, config).toBytes();
    const session = await ort.InferenceSession.create(model, {
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      interOpNumThreads: 1,
      ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}),
    });
    return new ChexbertLabeler(tokenizer, config, session, opts);
  }

  /**
   * Label reports; the result order is the input order. Identical texts are labelled once.
   * `onProgress(done, total)` follows the unique reports after each batch.
   */
  async label(texts: readonly string[], onProgress?: ProgressFn): Promise<ChexbertResult[]> {
    const unique = [...new Set(texts)];
    const labelled = await this.labelIds(
      unique.map((t) => this.tokenizer.encodeReport(t)),
      onProgress,
    );
    const byText = new Map(unique.map((t, i) => [t, labelled[i]!]));
    return texts.map((t) => byText.get(t)!);
  }

  /** Label already-encoded reports ([CLS] ... [SEP] ids). */
  async labelIds(encoded: readonly number[][], onProgress?: ProgressFn): Promise<ChexbertResult[]> {
    const results: ChexbertResult[] = new Array(encoded.length);
    let done = 0;
    for (const batch of planBatches(
      encoded.map((ids) => ids.length),
      this.options.batchTokens ?? DEFAULT_BATCH_TOKENS,
      this.options.maxBatch ?? DEFAULT_MAX_BATCH,
    )) {
      const out = await this.runBatch(batch.map((i) => encoded[i]!));
      batch.forEach((index, row) => {
        results[index] = { ids: encoded[index]!, ...out[row]! };
      });
      done += batch.length;
      onProgress?.(done, encoded.length);
    }
    return results;
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  private async runBatch(batch: number[][]): Promise<Omit<ChexbertResult, 'ids'>[]> {
    const length = Math.max(...batch.map((ids) => ids.length));
    const ids = new BigInt64Array(batch.length * length); // padding id 0
    const mask = new Int32Array(batch.length * length);
    batch.forEach((row, b) => {
      row.forEach((id, t) => {
        ids[b * length + t] = BigInt(id);
        mask[b * length + t] = 1;
      });
    });
    const out = await this.session.run({
      [CHEXBERT_IO.inputIds]: new ort.Tensor('int64', ids, [batch.length, length]),
      [CHEXBERT_IO.attentionMask]: new ort.Tensor('int32', mask, [batch.length, length]),
    });
    const logits = out[CHEXBERT_IO.logits]!.data as Float32Array;
    const noFinding = out[CHEXBERT_IO.noFindingLogits]!.data as Float32Array;
    const cls = out[CHEXBERT_IO.cls]!.data as Float32Array;
    const H = this.config.hiddenSize;
    const per4 = (CHEXBERT_HEADS - 1) * CHEXBERT_CLASSES;
    return batch.map((_, b) => {
      const heads: number[][] = [];
      for (let h = 0; h < CHEXBERT_HEADS - 1; h++) {
        const at = b * per4 + h * CHEXBERT_CLASSES;
        heads.push(Array.from(logits.subarray(at, at + CHEXBERT_CLASSES)));
      }
      heads.push(Array.from(noFinding.subarray(b * NO_FINDING_CLASSES, (b + 1) * NO_FINDING_CLASSES)));
      return { classes: heads.map(argmax), logits: heads, cls: cls.slice(b * H, (b + 1) * H) };
    });
  }
}

/** The bert_labeler tensors of a checkpoint, without the `model_state_dict.` and `module.` prefixes. */
export function labelerTensors(file: TensorSource): TensorSource {
  let view = file;
  for (const prefix of [`${CHEXBERT_STATE_DICT_KEY}.`, DATA_PARALLEL_PREFIX]) {
    if (view.list().some((t) => t.name.startsWith(prefix))) view = prefixView(view, prefix);
  }
  return view;
}

function readBertConfig(path: string): BertConfig {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw inputError('chexbert.bad_config', 'cannot read the BERT config as JSON', { file: path, cause: e });
  }
  return bertConfigFromJson(json, path);
}

/** torch.argmax: the first index of the maximum. */
function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/**
 * Group indices into batches of similar length: sorted by length (stable), each batch holding at most
 * `maxBatch` reports and `batchTokens` padded tokens (one report alone may exceed it).
 */
export function planBatches(lengths: readonly number[], batchTokens: number, maxBatch: number): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const batches: number[][] = [];
  let current: number[] = [];
  for (const i of order) {
    const longest = lengths[i]!; // ascending order: the newcomer is the longest
    if (current.length > 0 && (current.length >= maxBatch || (current.length + 1) * longest > batchTokens)) {
      batches.push(current);
      current = [];
    }
    current.push(i);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
