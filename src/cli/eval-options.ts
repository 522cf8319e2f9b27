/**
 * Options and argument parsing shared by `cxr eval`, `cxr compare` and `cxr chexprompt`: input columns and
 * limits, bootstrap settings, the output mode and the stderr logger.
 */
import { resolve } from 'node:path';
import { inputError } from '../errors.js';
import { DEFAULT_FIELDS, DEFAULT_MAX_CHARS, METRICS, type Pairs, readPairs } from '../eval/index.js';
import { type BootstrapOptions, DEFAULT_RESAMPLES } from '../eval/stats/index.js';
import { type CliIO, flag, int, type OptionSpec, type ParsedArgs, str } from './command.js';

/** Runs with at least this many pairs print per-metric progress lines. */
export const LONG_RUN_PAIRS = 10_000;
/** MT19937 seeds are 32-bit. */
const MAX_SEED = 0xffffffff;

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
  'id-field': { type: 'string', valueName: 'NAME', description: 'id column', default: DEFAULT_FIELDS.id },
  'pred-field': {
    type: 'string',
    valueName: 'NAME',
    description: 'prediction column',
    default: DEFAULT_FIELDS.prediction,
  },
  'ref-field': {
    type: 'string',
    valueName: 'NAME',
    description: 'reference column',
    default: DEFAULT_FIELDS.reference,
  },
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

export type OutputMode = 'table' | 'json' | 'csv';

export function outputMode(args: ParsedArgs): OutputMode {
  if (flag(args, 'json') && flag(args, 'csv')) {
    throw inputError('cli.bad_option', 'choose one of --json and --csv', { field: '--json/--csv' });
  }
  return flag(args, 'json') ? 'json' : flag(args, 'csv') ? 'csv' : 'table';
}

/** Read `--pred` (and `--ref`) with the input options, logging the reader's progress and warnings. */
export async function readPairsOf(
  args: ParsedArgs,
  io: CliIO,
  pred: string,
  log: (message: string) => void,
): Promise<Pairs> {
  const ref = str(args, 'ref');
  const pairs = await readPairs({
    pred: resolve(io.cwd, pred),
    ref: ref === undefined ? undefined : resolve(io.cwd, ref),
    ...inputOptions(args),
    onProgress: log,
  });
  for (const w of pairs.warnings) log(`warning: ${w}`);
  return pairs;
}
