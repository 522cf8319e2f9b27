import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { CxrError, inputError } from '../errors.js';
import {
  type AnswerFormat,
  chexpromptJson,
  chexpromptMetricValues,
  chexpromptPerReport,
  chexpromptWithJudge,
  DEFAULT_PARSE_RETRIES,
  defaultTemplate,
  formatChexpromptTable,
  type JudgedPair,
  judgedPairs,
  type PromptTemplate,
  parseTemplate,
  type ReportResult,
  type SpecRun,
} from '../eval/chexprompt/index.js';
import type { MetricValue, Pairs } from '../eval/index.js';
import type { BootstrapOptions } from '../eval/stats/index.js';
import {
  DEFAULT_GGUF_CONTEXT,
  DEFAULT_JUDGE_PARAMS,
  DEFAULT_LIMITS,
  type JudgeSettings,
  type JudgeSpec,
  type Pricing,
  parseJudgeSpec,
} from '../judge/index.js';
import { CHEXPROMPT_OPTIONS, DEFAULT_CACHE_PATH, DEFAULT_CONCURRENCY } from './chexprompt-options.js';
import { type CliIO, type Command, flag, int, num, type ParsedArgs, str } from './command.js';
import { bootstrapOptions, readPairsOf, SHARED_EVAL_OPTIONS, stderrLogger } from './eval-options.js';
import { writeAtomic } from './output.js';

const PROGRESS_EVERY_MS = 5_000;
const MS_PER_SECOND = 1000;

const pick = (names: string[]) => Object.fromEntries(names.map((n) => [n, SHARED_EVAL_OPTIONS[n]!]));

/** Exit status when the judge scored no report: a failure of the run, not of the user's input. */
const EXIT_NOTHING_SCORED = 1;
const NOTHING_SCORED = 'no report was scored; every judge request failed (reasons in --per-report)';

/** Judge options are counts, rates and durations: never negative. */
const NOT_NEGATIVE = 0;

function apiKey(spec: JudgeSpec, env: CliIO['env']): string | undefined {
  // Each kind reads only its own variable: an OpenAI key is never sent to some other server.
  if (spec.kind === 'openai') return env.OPENAI_API_KEY;
  if (spec.kind === 'azure') return env.AZURE_OPENAI_API_KEY;
  if (spec.kind === 'http') return env.CXR_JUDGE_API_KEY;
  return undefined;
}

function pricing(args: ParsedArgs): Pricing | undefined {
  const v = str(args, 'price');
  if (v === undefined) return undefined;
  const [a, b] = v.split(',').map(Number);
  if (!(Number.isFinite(a) && Number.isFinite(b) && a! >= 0 && b! >= 0) || v.split(',').length !== 2) {
    throw inputError('cli.bad_option', 'expected two prices', {
      field: '--price',
      expected: 'IN,OUT e.g. 2.5,10',
      found: v,
    });
  }
  return { promptPerMillion: a!, completionPerMillion: b! };
}

function template(args: ParsedArgs, io: CliIO): PromptTemplate {
  const file = str(args, 'prompt-file');
  if (file === undefined) return defaultTemplate();
  const path = resolve(io.cwd, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw inputError('chexprompt.prompt_file', `cannot read: ${(e as Error).message}`, { file: path });
  }
  return parseTemplate(text, path);
}

function cachePath(args: ParsedArgs, io: CliIO): string | undefined {
  if (flag(args, 'no-cache')) return undefined;
  const given = str(args, 'cache');
  if (given !== undefined) return resolve(io.cwd, given);
  const base = io.env.XDG_CACHE_HOME || join(io.env.HOME || homedir(), '.cache');
  return join(base, ...DEFAULT_CACHE_PATH);
}

function judgeSettings(
  args: ParsedArgs,
  io: CliIO,
): { spec: JudgeSpec; text: string; settings: JudgeSettings } {
  const text = str(args, 'judge');
  if (text === undefined) {
    throw inputError('cli.missing_option', 'a judge is needed', {
      field: '--judge',
      expected: 'e.g. openai:gpt-4o',
    });
  }
  const spec = parseJudgeSpec(text);
  const settings: JudgeSettings = {
    params: {
      temperature: num(args, 'temperature', DEFAULT_JUDGE_PARAMS.temperature, NOT_NEGATIVE),
      maxTokens: int(args, 'max-tokens', DEFAULT_JUDGE_PARAMS.maxTokens, 1),
      ...(str(args, 'judge-seed') === undefined ? {} : { seed: int(args, 'judge-seed', 0) }),
    },
    apiKey: apiKey(spec, io.env),
    azureEndpoint: str(args, 'azure-endpoint') ?? io.env.AZURE_OPENAI_ENDPOINT,
    azureApiVersion: str(args, 'api-version') ?? io.env.OPENAI_API_VERSION,
    structured: flag(args, 'structured'),
    limitField: flag(args, 'max-completion-tokens') ? 'max_completion_tokens' : 'max_tokens',
    ggufContextSize: int(args, 'context', DEFAULT_GGUF_CONTEXT, 1),
    ggufThreads: str(args, 'threads') === undefined ? undefined : int(args, 'threads', 1, 1),
  };
  return { spec, text, settings };
}

function answerFormat(args: ParsedArgs): AnswerFormat | undefined {
  const v = str(args, 'answer-format');
  if (v === undefined || v === 'list' || v === 'json') return v;
  throw inputError('cli.bad_option', 'unknown answer format', {
    field: '--answer-format',
    expected: 'list or json',
    found: v,
  });
}

/** A plain progress line every few seconds. */
function progress(total: number, log: (message: string) => void): (r: ReportResult) => void {
  const started = Date.now();
  let lastLog = started;
  let done = 0;
  let failed = 0;
  return (r) => {
    done++;
    if (r.status === 'failed') failed++;
    const now = Date.now();
    if (now - lastLog < PROGRESS_EVERY_MS) return;
    lastLog = now;
    log(
      `${done}/${total} judged, ${failed} failed, ${(done / ((now - started) / MS_PER_SECOND)).toFixed(1)} reports/s`,
    );
  };
}

/** Judge every pair with the options of CHEXPROMPT_OPTIONS; the caller owns the printing. */
export async function runJudged(
  pairs: JudgedPair[],
  args: ParsedArgs,
  io: CliIO,
  bootstrap: BootstrapOptions,
  log: (message: string) => void,
): Promise<SpecRun> {
  // Every option is checked before a model is loaded or a cache file created.
  const { spec, text, settings } = judgeSettings(args, io);
  const format = answerFormat(args);
  const prompt = template(args, io);
  const price = pricing(args);
  const parseRetries = int(args, 'parse-retries', DEFAULT_PARSE_RETRIES, NOT_NEGATIVE);
  const limits = {
    ...DEFAULT_LIMITS,
    concurrency: Math.floor(num(args, 'concurrency', DEFAULT_CONCURRENCY, 1)),
    requestsPerMinute: num(args, 'rpm', DEFAULT_LIMITS.requestsPerMinute, NOT_NEGATIVE),
    timeoutMs: num(args, 'timeout', DEFAULT_LIMITS.timeoutMs / MS_PER_SECOND, NOT_NEGATIVE) * MS_PER_SECOND,
    maxRetries: int(args, 'retries', DEFAULT_LIMITS.maxRetries, NOT_NEGATIVE),
  };
  const path = cachePath(args, io);
  return chexpromptWithJudge(pairs, {
    spec,
    settings,
    limits,
    format,
    cachePath: path,
    template: prompt,
    parseRetries,
    pricing: price,
    bootstrap,
    onResult: progress(pairs.length, log),
    onStart: (f) =>
      log(`judging ${pairs.length} pairs with ${text} (${f} answers${path ? `, cache ${path}` : ''})`),
  });
}

export const chexpromptCommand: Command = {
  name: 'chexprompt',
  summary: 'CheXprompt: an LLM judge counts clinically significant and insignificant errors per report.',
  usage: '--pred FILE [--ref FILE] --judge SPEC [--per-report FILE.jsonl] [--json]',
  options: {
    pred: {
      type: 'string',
      valueName: 'FILE',
      description: 'candidate findings: JSONL {id, prediction} or CSV',
    },
    ref: {
      type: 'string',
      valueName: 'FILE',
      description: 'reference findings: JSONL {id, reference} or CSV',
    },
    ...pick([
      'format',
      'id-field',
      'pred-field',
      'ref-field',
      'max-chars',
      'require-all',
      'bootstrap',
      'seed',
    ]),
    ...CHEXPROMPT_OPTIONS,
    'per-report': {
      type: 'string',
      valueName: 'FILE.jsonl',
      description: 'write the 12 counts (or the failure) per report',
    },
    json: { type: 'boolean', description: 'print JSON instead of a table' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress on stderr' },
  },
  details: `
A --prompt-file may start with a [[system]] section followed by a [[user]] section; without markers the whole
file is the user message. Keys come from the environment only: OPENAI_API_KEY (openai:), AZURE_OPENAI_API_KEY (azure:), CXR_JUDGE_API_KEY
(http:// servers that need one). Answers are cached (SQLite) by judge, model, prompt hash, parameters and both
texts, so a rerun costs nothing and an interrupted run resumes. An answer that cannot be read is asked again
(--parse-retries) and then counted as a failure, shown with its raw text in --per-report, never as zero errors.`,
  async run(args, io) {
    const pred = str(args, 'pred');
    if (pred === undefined)
      throw inputError('cli.missing_option', 'cxr chexprompt needs --pred FILE', { field: '--pred' });
    const log = stderrLogger(io, 'chexprompt', flag(args, 'quiet'));
    const bootstrap = bootstrapOptions(args);
    if (bootstrap.resamples === 0)
      throw inputError('cli.bad_option', 'CheXprompt always reports intervals', {
        field: '--bootstrap',
        expected: '>= 1',
      });
    const pairs = await readPairsOf(args, io, pred, log);
    const { report, seconds, judge } = await runJudged(judgedPairs(pairs), args, io, bootstrap, log);
    const perReport = str(args, 'per-report');
    if (perReport !== undefined)
      await writeAtomic(resolve(io.cwd, perReport), chexpromptPerReport(report.results));
    const facts = { seconds, scheduler: judge.stats, warnings: pairs.warnings };
    io.stdout(flag(args, 'json') ? chexpromptJson(report, facts) : formatChexpromptTable(report, facts));
    if (report.aggregate.scored > 0) return 0;
    // Nothing measured is a failed run, whatever the reason: scripts must not take it for a result.
    io.stderr(`cxr chexprompt: error: ${NOTHING_SCORED}\n`);
    return EXIT_NOTHING_SCORED;
  },
};

/** `cxr eval --metrics ...,chexprompt`: judge the joined pairs and report the headline aggregates as metrics. */
export async function chexpromptEvalMetrics(
  pairs: Pairs,
  args: ParsedArgs,
  io: CliIO,
  bootstrap: BootstrapOptions,
  log: (message: string) => void,
): Promise<MetricValue[]> {
  const { report } = await runJudged(judgedPairs(pairs), args, io, bootstrap, log);
  const { failed, reports, scored } = report.aggregate;
  if (scored === 0)
    throw new CxrError(`chexprompt: ${NOTHING_SCORED}`, {
      code: 'chexprompt.nothing_scored',
      kind: 'internal',
    });
  if (failed > 0) {
    const warning = `chexprompt: ${failed} of ${reports} reports failed (unreadable answers or judge errors) and are left out`;
    pairs.warnings.push(warning);
    log(`warning: ${warning}`);
  }
  return chexpromptMetricValues(report);
}
