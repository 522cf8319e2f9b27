import { basename, resolve } from 'node:path';
import { inputError } from '../errors.js';
import {
  type ComparisonDocument,
  compareSystems,
  comparisonCsv,
  comparisonHtml,
  comparisonJson,
  comparisonTable,
  parseMetricList,
  readSystems,
} from '../eval/index.js';
import { type BootstrapOptions, DEFAULT_RANDOMISATION_TRIALS } from '../eval/stats/index.js';
import { type CliIO, type Command, flag, int, type ParsedArgs, str, strList } from './command.js';
import {
  bootstrapOptions,
  inputOptions,
  LONG_RUN_PAIRS,
  type OutputMode,
  outputMode,
  SHARED_EVAL_OPTIONS,
  stderrLogger,
} from './eval-options.js';
import { writeAtomic } from './output.js';
import { packageVersion } from './version.js';

/** Unique display names for the systems: file names, with the path added where two collide. */
function systemNames(files: string[]): string[] {
  const names = files.map((f) => basename(f));
  return names.map((n, i) => (names.indexOf(n) !== names.lastIndexOf(n) ? files[i]! : n));
}

interface CompareArgs {
  ref: string;
  preds: string[];
  trials: number;
  metrics: string[];
  bootstrap: BootstrapOptions;
  mode: OutputMode;
  html?: string;
  quiet: boolean;
}

/** Every option checked before any file is read. */
function compareArgs(args: ParsedArgs): CompareArgs {
  const ref = str(args, 'ref');
  const preds = strList(args, 'pred');
  if (ref === undefined || preds.length < 2) {
    throw inputError('cli.missing_option', 'cxr compare needs --ref FILE and at least two --pred FILE', {
      field: ref === undefined ? '--ref' : '--pred',
      found: `${preds.length} --pred`,
    });
  }
  const trials = int(args, 'trials', DEFAULT_RANDOMISATION_TRIALS);
  if (trials < 1)
    throw inputError('cli.bad_option', 'must be >= 1', { field: '--trials', found: String(trials) });
  return {
    ref,
    preds,
    trials,
    metrics: parseMetricList(str(args, 'metrics')),
    bootstrap: bootstrapOptions(args),
    mode: outputMode(args),
    html: str(args, 'html'),
    quiet: flag(args, 'quiet'),
  };
}

/** Read and score every system, then compare each pair of them. */
async function compareFiles(o: CompareArgs, args: ParsedArgs, io: CliIO): Promise<ComparisonDocument> {
  const log = stderrLogger(io, 'compare', o.quiet);
  const data = await readSystems({
    ref: resolve(io.cwd, o.ref),
    preds: o.preds.map((p) => resolve(io.cwd, p)),
    ...inputOptions(args),
    onProgress: log,
  });
  for (const w of data.warnings) log(`warning: ${w}`);
  const names = systemNames(o.preds);
  const { systems, comparisons } = compareSystems(
    data.references,
    data.systems.map((s, i) => ({ name: names[i]!, predictions: s.predictions })),
    {
      metrics: o.metrics,
      bootstrap: o.bootstrap,
      trials: o.trials,
      onProgress: data.ids.length >= LONG_RUN_PAIRS ? log : undefined,
    },
  );
  return { n: data.ids.length, systems, comparisons, warnings: data.warnings, trials: o.trials };
}

export const compareCommand: Command = {
  name: 'compare',
  summary: 'Compare systems on the same references: paired bootstrap differences and randomisation p-values.',
  usage: '--ref FILE --pred A.jsonl --pred B.jsonl [...] [--metrics LIST] [--json|--csv] [--html FILE]',
  options: {
    ref: { type: 'string', valueName: 'FILE', description: 'references: JSONL {id, reference} or CSV' },
    pred: {
      type: 'string',
      multiple: true,
      valueName: 'FILE',
      description: 'predictions of one system (repeat)',
    },
    trials: {
      type: 'string',
      valueName: 'N',
      description: 'approximate-randomisation trials',
      default: String(DEFAULT_RANDOMISATION_TRIALS),
    },
    ...SHARED_EVAL_OPTIONS,
  },
  details: `
Every system is scored on the ids present in the references and in every prediction file. For each pair of
systems and each metric: the difference A - B over all pairs, a 95% paired-bootstrap interval (the same
resampled reports for both systems) and a two-sided approximate-randomisation p-value (outputs swapped per
report with probability 1/2; p = (extreme + 1) / (trials + 1)).`,
  async run(args, io) {
    const o = compareArgs(args);
    const doc = await compareFiles(o, args, io);
    if (o.html !== undefined) {
      const generatedBy = `cxr ${packageVersion()}; references ${o.ref}; ${o.trials} randomisation trials.`;
      await writeAtomic(resolve(io.cwd, o.html), [comparisonHtml(doc, generatedBy)]);
    }
    const render = { json: comparisonJson, csv: comparisonCsv, table: comparisonTable }[o.mode];
    io.stdout(render(doc));
    return 0;
  },
};
