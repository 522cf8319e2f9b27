import { basename, resolve } from 'node:path';
import { inputError } from '../errors.js';
import {
  type EvalDocument,
  evaluate,
  formatTable,
  perReportLines,
  renderHtml,
  toCsv,
  toJson,
} from '../eval/index.js';
import { CHEXBERT_OPTIONS, chexbertEvalMetrics, labelerName } from './chexbert-options.js';
import { CHEXPROMPT_OPTIONS, splitChexpromptMetric } from './chexprompt-options.js';
import { type Command, flag, str } from './command.js';
import {
  bootstrapOptions,
  LONG_RUN_PAIRS,
  outputMode,
  readPairsOf,
  SHARED_EVAL_OPTIONS,
  stderrLogger,
} from './eval-options.js';
import { writeAtomic } from './output.js';
import { packageVersion } from './version.js';

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
    const pairs = await readPairsOf(args, io, pred, log);
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
