import { createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { inputError } from '../errors.js';
import {
  DEFAULT_MAX_CHARS,
  type EvalDocument,
  evaluate,
  formatTable,
  METRICS,
  perReportLines,
  readPairs,
  renderHtml,
  toCsv,
  toJson,
} from '../eval/index.js';
import { type BootstrapOptions, DEFAULT_RESAMPLES } from '../eval/stats/index.js';
import { CHEXBERT_OPTIONS, chexbertEvalMetrics, labelerName } from './chexbert-options.js';
import { CHEXPROMPT_OPTIONS, splitChexpromptMetric } from './chexprompt-options.js';
import { type CliIO, type Command, flag, int, type OptionSpec, type ParsedArgs, str } from './command.js';
import { packageVersion } from './version.js';

/** MT19937 seeds are 32-bit. */
const MAX_SEED = 0xffffffff;
/** Runs with at least this many pairs print per-metric progress lines. */
const LONG_RUN_PAIRS = 10_000;

/** Options shared by `cxr eval` and `cxr compare`. */
export const SHARED_EVAL_OPTIONS: Record<string, OptionSpec> = {
  metrics: {
    type: 'string',
    valueName: 'LIST',
    description: `comma-separated: ${Object.keys(METRICS).join(', ')}, or all (default: every model-free metric but rougeL-stem)`,
  },
  format: {
    type: 'string',
    valueName: 'jsonl|csv',
    description: 'input format (default: from the file extension)',
  },
  'id-field': { type: 'string', valueName: 'NAME', description: 'id column', default: 'id' },
  'pred-field': {
    type: 'string',
    valueName: 'NAME',
    description: 'prediction column',
    default: 'prediction',
  },
  'ref-field': { type: 'string', valueName: 'NAME', description: 'reference column', default: 'reference' },
  bootstrap: {
    type: 'string',
    valueName: 'N',
    description: 'bootstrap resamples (0: no intervals)',
    default: String(DEFAULT_RESAMPLES),
  },
  seed: {
    type: 'string',
    valueName: 'N',
    description:
      "bootstrap seed for every metric (default: the reference implementations': 12345 with numpy's PCG64 for BLEU as sacrebleu, 3 with numpy's legacy MT19937 otherwise as LLaVA-Rad)",
  },
  'max-chars': {
    type: 'string',
    valueName: 'N',
    description: 'longest text accepted',
    default: String(DEFAULT_MAX_CHARS),
  },
  'require-all': {
    type: 'boolean',
    description: 'fail when an id is missing from a file instead of warning',
  },
  json: { type: 'boolean', description: 'print JSON instead of a table' },
  csv: { type: 'boolean', description: 'print CSV instead of a table' },
  html: { type: 'string', valueName: 'FILE', description: 'write a self-contained HTML report with charts' },
  quiet: { type: 'boolean', short: 'q', description: 'no warnings or progress on stderr' },
};

export function bootstrapOptions(args: ParsedArgs): BootstrapOptions {
  const resamples = int(args, 'bootstrap', DEFAULT_RESAMPLES);
  if (resamples < 0) {
    throw inputError('cli.bad_option', 'must be >= 0', { field: '--bootstrap', found: String(resamples) });
  }
  if (str(args, 'seed') === undefined) return { resamples };
  const seed = int(args, 'seed', 0);
  if (seed < 0 || seed > MAX_SEED) {
    throw inputError('cli.bad_option', 'out of range', {
      field: '--seed',
      expected: `0 to ${MAX_SEED}`,
      found: String(seed),
    });
  }
  return { resamples, seed };
}

export function inputOptions(args: ParsedArgs) {
  const maxChars = int(args, 'max-chars', DEFAULT_MAX_CHARS);
  if (maxChars < 1)
    throw inputError('cli.bad_option', 'must be >= 1', { field: '--max-chars', found: String(maxChars) });
  return {
    format: str(args, 'format'),
    idField: str(args, 'id-field'),
    predField: str(args, 'pred-field'),
    refField: str(args, 'ref-field'),
    maxChars,
    requireAll: flag(args, 'require-all'),
  };
}

export function stderrLogger(io: CliIO, command: string, quiet: boolean): (message: string) => void {
  return (message) => {
    if (!quiet) io.stderr(`cxr ${command}: ${message}\n`);
  };
}

/** Write through a temporary file and rename, so an interrupted run never leaves half a report. */
export async function writeAtomic(path: string, chunks: Iterable<string>): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const out = createWriteStream(tmp, { encoding: 'utf8' });
  const done = new Promise<void>((ok, fail) => {
    out.on('finish', ok);
    out.on('error', fail);
  });
  for (const chunk of chunks) {
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  out.end();
  try {
    await done;
  } catch (e) {
    throw inputError('eval.cannot_write', (e as Error).message, { file: path });
  }
  await rename(tmp, path);
}

export function outputMode(args: ParsedArgs): 'table' | 'json' | 'csv' {
  if (flag(args, 'json') && flag(args, 'csv')) {
    throw inputError('cli.bad_option', 'choose one of --json and --csv', { field: '--json/--csv' });
  }
  return flag(args, 'json') ? 'json' : flag(args, 'csv') ? 'csv' : 'table';
}

export const evalCommand: Command = {
  name: 'eval',
  summary:
    'Score predicted findings against references: BLEU-1/4, ROUGE-L, CIDEr-D, CheXpert-label F1, with CIs.',
  usage: '--pred FILE [--ref FILE] [--metrics LIST] [--json|--csv] [--per-report FILE.jsonl] [--html FILE]',
  options: {
    pred: {
      type: 'string',
      valueName: 'FILE',
      description:
        'predictions: JSONL {id, prediction} or CSV; may also hold the references (LLaVA-Rad output)',
    },
    ref: { type: 'string', valueName: 'FILE', description: 'references: JSONL {id, reference} or CSV' },
    ...SHARED_EVAL_OPTIONS,
    'per-report': {
      type: 'string',
      valueName: 'FILE.jsonl',
      description: 'write per-pair values and labels (first line: their signatures)',
    },
    ...CHEXPROMPT_OPTIONS,
    ...CHEXBERT_OPTIONS,
  },
  details: `
Pairs are joined on id. Ids in one file only are reported and left out (--require-all makes that an error);
a duplicate id, a missing field or invalid UTF-8 is an error naming file and line. Null or bare NaN texts are
scored as empty, with a warning. Reported values follow the published conventions: corpus BLEU with sacrebleu's
bootstrap interval, ROUGE-L as the bootstrap mid value, label F1 as the bootstrap median, CIDEr-D as the
full-sample value. Every number carries a signature (implementation, tokenizer, case, smoothing, options,
bootstrap settings).`,
  async run(args, io) {
    const pred = str(args, 'pred');
    if (pred === undefined) {
      throw inputError('cli.missing_option', 'cxr eval needs --pred FILE', { field: '--pred' });
    }
    const ref = str(args, 'ref');
    const { metrics, chexprompt } = splitChexpromptMetric(str(args, 'metrics'));
    const bootstrap = bootstrapOptions(args);
    const mode = outputMode(args);
    const quiet = flag(args, 'quiet');
    const log = stderrLogger(io, 'eval', quiet);
    const pairs = await readPairs({
      pred: resolve(io.cwd, pred),
      ref: ref === undefined ? undefined : resolve(io.cwd, ref),
      ...inputOptions(args),
      onProgress: log,
    });
    for (const w of pairs.warnings) log(`warning: ${w}`);
    const long = pairs.ids.length >= LONG_RUN_PAIRS;
    if (long) log(`scoring ${pairs.ids.length} pairs with ${metrics.join(', ')}`);
    const chexbert = labelerName(args) === 'chexbert'; // CheXbert's label F1 replaces the rule labeler's
    const result = evaluate(pairs.predictions, pairs.references, {
      metrics: chexbert ? metrics.filter((m) => m !== 'chexpert-f1') : metrics,
      bootstrap,
      onProgress: long ? log : undefined,
    });
    if (chexbert) {
      const c = await chexbertEvalMetrics(args, io, pairs, bootstrap, log);
      result.metrics.push(...c.metrics);
      result.labels = c.labels;
    }
    if (chexprompt)
      result.metrics.push(
        ...(await (await import('./chexprompt.js')).chexpromptEvalMetrics(pairs, args, io, bootstrap, log)),
      );
    const doc: EvalDocument = {
      n: result.n,
      metrics: result.metrics,
      warnings: pairs.warnings,
      inputs: { pred, ref },
      unmatched: { predictionOnly: pairs.predictionOnly.length, referenceOnly: pairs.referenceOnly.length },
    };
    const perReport = str(args, 'per-report');
    if (perReport !== undefined)
      await writeAtomic(resolve(io.cwd, perReport), perReportLines(pairs.ids, result));
    const html = str(args, 'html');
    if (html !== undefined) {
      const page = renderHtml({
        title: 'cxr eval',
        n: result.n,
        systems: [{ name: basename(pred), metrics: result.metrics }],
        warnings: pairs.warnings,
        generatedBy: `cxr ${packageVersion()}; predictions ${pred}${ref ? `, references ${ref}` : ''}.`,
      });
      await writeAtomic(resolve(io.cwd, html), [page]);
    }
    io.stdout(mode === 'json' ? toJson(doc) : mode === 'csv' ? toCsv(doc) : formatTable(doc));
    return 0;
  },
};
