/**
 * `--labeler chexbert` for `cxr label` and `cxr eval`: the options, opening the user's chexbert.pth, and the glue
 * that turns CheXbert labels into label output or eval metrics. Kept apart from label.ts and eval.ts so those
 * stay small and onnxruntime loads only when CheXbert is asked for.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { inputError } from '../errors.js';
import { estimates, type MetricValue, type Pairs, toMetricValues } from '../eval/index.js';
import {
  CSV_HEADER,
  csvRow,
  jsonlRow,
  type ReportRow,
  readReports,
  reportFormatOf,
} from '../eval/labels/chexpert/index.js';
import {
  type ChexbertLabeler,
  chexbertF1Scores,
  type Labels14,
  openChexbert,
  toChexpertLabels,
} from '../eval/labels/index.js';
import type { BootstrapOptions } from '../eval/stats/index.js';
import { type CliIO, int, type OptionSpec, type ParsedArgs, str } from './command.js';

export const LABELERS = ['rule', 'chexbert'] as const;
export type LabelerName = (typeof LABELERS)[number];
/** bert-base-uncased files looked for beside chexbert.pth when not named. */
const VOCAB_FILE = 'vocab.txt';
const CONFIG_FILE = 'config.json';
/** Reports read before each CheXbert pass of `cxr label` (bounded memory on long files). */
const LABEL_CHUNK = 1024;

export const CHEXBERT_OPTIONS: Record<string, OptionSpec> = {
  labeler: {
    type: 'string',
    valueName: 'rule|chexbert',
    description: 'rule: the built-in CheXpert rules; chexbert: the CheXbert model (needs --weights)',
    default: 'rule',
  },
  weights: {
    type: 'string',
    valueName: 'FILE',
    description: 'chexbert.pth (StanfordAIMI/RRG_scorers, research licence)',
  },
  vocab: {
    type: 'string',
    valueName: 'FILE',
    description: `bert-base-uncased ${VOCAB_FILE} (default: ${VOCAB_FILE} beside --weights)`,
  },
  'bert-config': {
    type: 'string',
    valueName: 'FILE',
    description: `BERT ${CONFIG_FILE} (default: ${CONFIG_FILE} beside --weights if present, else bert-base-uncased)`,
  },
  'chexbert-threads': {
    type: 'string',
    valueName: 'N',
    description: 'CPU threads for CheXbert (default: all cores)',
  },
};

export function labelerName(args: ParsedArgs): LabelerName {
  const name = str(args, 'labeler') ?? 'rule';
  if (!(LABELERS as readonly string[]).includes(name))
    throw inputError('cli.bad_option', 'unknown labeler', {
      field: '--labeler',
      expected: LABELERS.join(' or '),
      found: name,
    });
  return name as LabelerName;
}

/** Open CheXbert from `--weights` (+ `--vocab`, `--bert-config`), with errors that say what is missing. */
export async function openChexbertFromArgs(args: ParsedArgs, io: CliIO): Promise<ChexbertLabeler> {
  const weights = str(args, 'weights');
  if (weights === undefined)
    throw inputError('cli.missing_option', '--labeler chexbert needs --weights chexbert.pth', {
      field: '--weights',
      expected: 'the chexbert.pth of StanfordAIMI/RRG_scorers (get it with `cxr pull chexbert`)',
    });
  const weightsPath = resolve(io.cwd, weights);
  if (!existsSync(weightsPath))
    throw inputError('chexbert.missing_weights', 'no such file', { file: weightsPath, field: '--weights' });
  const beside = (name: string) => join(dirname(weightsPath), name);
  const vocab = str(args, 'vocab');
  const vocabPath = vocab === undefined ? beside(VOCAB_FILE) : resolve(io.cwd, vocab);
  if (!existsSync(vocabPath))
    throw inputError('chexbert.missing_vocab', 'no bert-base-uncased vocabulary', {
      file: vocabPath,
      field: '--vocab',
      expected: `bert-base-uncased's ${VOCAB_FILE} (huggingface.co/google-bert/bert-base-uncased) beside the weights, or --vocab`,
    });
  const config = str(args, 'bert-config');
  const configPath = config === undefined ? beside(CONFIG_FILE) : resolve(io.cwd, config);
  if (config !== undefined && !existsSync(configPath))
    throw inputError('chexbert.missing_config', 'no such file', { file: configPath, field: '--bert-config' });
  const threads = int(args, 'chexbert-threads', 0);
  if (threads < 0)
    throw inputError('cli.bad_option', 'must be >= 0', {
      field: '--chexbert-threads',
      found: String(threads),
    });
  return openChexbert(weightsPath, {
    vocabPath,
    configPath: existsSync(configPath) ? configPath : undefined,
    threads: threads || undefined,
  });
}

function progressLogger(log: (message: string) => void, what: string) {
  let last = 0;
  return (done: number, total: number) => {
    const now = Date.now();
    if (done === total || now - last > 5000) {
      last = now;
      log(`chexbert: ${done}/${total} ${what}`);
    }
  };
}

/**
 * `cxr label --labeler chexbert`: output lines in input order, labelling chunks of LABEL_CHUNK reports at a time
 * (bounded memory on long files); counts reports and empty ones into `tally`.
 */
export async function* chexbertLabelLines(
  args: ParsedArgs,
  io: CliIO,
  file: string,
  format: 'jsonl' | 'csv',
  tally: { count: number; empty: number },
): AsyncGenerator<string> {
  const labeler = await openChexbertFromArgs(args, io);
  const progress = str(args, 'output') !== undefined;
  const labelChunk = async function* (rows: ReportRow[]): AsyncGenerator<string> {
    const results = await labeler.label(rows.map((r) => r.text));
    for (const [i, row] of rows.entries()) {
      const labels = toChexpertLabels(results[i]!.classes);
      yield format === 'csv' ? csvRow(row.text, labels) : jsonlRow(row, labels);
      tally.count++;
      if (row.text.trim() === '') tally.empty++;
    }
    if (progress) io.stderr(`cxr label: chexbert: ${tally.count} reports\n`);
  };
  try {
    if (format === 'csv') yield CSV_HEADER;
    let chunk: ReportRow[] = [];
    for await (const row of readReports(
      file,
      reportFormatOf(file, str(args, 'format')),
      str(args, 'field'),
    )) {
      chunk.push(row);
      if (chunk.length === LABEL_CHUNK) {
        yield* labelChunk(chunk);
        chunk = [];
      }
    }
    if (chunk.length > 0) yield* labelChunk(chunk);
  } finally {
    await labeler.close();
  }
  if (tally.count === 0) throw inputError('label.empty', 'no reports in the file', { file });
}

/**
 * `cxr eval --labeler chexbert`: CheXbert labels predictions and references together (as LLaVA-Rad's evaluate()
 * does) and the eight label-F1 numbers take the place of the rule labeler's.
 */
export async function chexbertEvalMetrics(
  args: ParsedArgs,
  io: CliIO,
  pairs: Pairs,
  bootstrap: BootstrapOptions,
  log: (message: string) => void,
): Promise<{ metrics: MetricValue[]; labels: { predictions: Labels14[]; references: Labels14[] } }> {
  const labeler = await openChexbertFromArgs(args, io);
  try {
    const n = pairs.predictions.length;
    const started = Date.now();
    const results = await labeler.label(
      [...pairs.predictions, ...pairs.references],
      progressLogger(log, 'unique reports'),
    );
    log(`chexbert: ${2 * n} reports labelled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const pred = results.slice(0, n).map((r) => r.classes);
    const ref = results.slice(n).map((r) => r.classes);
    const scores = chexbertF1Scores(ref, pred);
    return {
      metrics: toMetricValues(scores, estimates(scores, bootstrap), bootstrap),
      labels: { predictions: pred.map(toChexpertLabels), references: ref.map(toChexpertLabels) },
    };
  } finally {
    await labeler.close();
  }
}
