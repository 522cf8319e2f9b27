import { resolve } from 'node:path';
import { inputError } from '../errors.js';
import {
  type BatchProgress,
  BUNDLE_DTYPES,
  type BundleDtype,
  checkBatchOutput,
  checkGenerationOptions,
  type FindingsResult,
  FindingsStream,
  GENERATION_DEFAULTS,
  type GenerationOptions,
  INSTRUCTION_KINDS,
  type InstructionKind,
  type LlavaModel,
  openBundleModel,
  openReleasedModel,
  PROMPT,
  readStudies,
  runBatch,
  runFindings,
  type Study,
  type TokenEvent,
} from '../llava/index.js';
import { type CliIO, type Command, flag, int, num, type ParsedArgs, str, strList } from './command.js';
import { PULL_HINT, withPullHint } from './pull-hint.js';

const D = GENERATION_DEFAULTS;
/** What a shell reports for a command stopped by Ctrl-C (128 + SIGINT). */
const EXIT_INTERRUPTED = 130;
function choice<T extends string>(args: ParsedArgs, name: string, allowed: readonly T[], fallback: T): T {
  const v = str(args, name) ?? fallback;
  if (!(allowed as readonly string[]).includes(v))
    throw inputError('cli.bad_option', `unknown ${name}`, {
      field: `--${name}`,
      expected: allowed.join(', '),
      found: v,
    });
  return v as T;
}

/** The option behind each generation setting, so a range error names what the user typed. */
const GENERATION_FLAGS = {
  maxNewTokens: '--max-new-tokens',
  temperature: '--temperature',
  topP: '--top-p',
  topK: '--top-k',
  seed: '--seed',
  numBeams: '--num-beams',
} as const;

function generationOptions(args: ParsedArgs): GenerationOptions {
  const options = {
    maxNewTokens: int(args, 'max-new-tokens', D.maxNewTokens),
    temperature: num(args, 'temperature', D.temperature),
    topP: num(args, 'top-p', D.topP),
    topK: int(args, 'top-k', D.topK),
    seed: int(args, 'seed', D.seed),
    numBeams: int(args, 'num-beams', D.numBeams),
    stopStrings: strList(args, 'stop'),
  };
  // Checked here, before the model loads: in --batch a range error would otherwise fail every study's line.
  checkGenerationOptions(options, (field) => GENERATION_FLAGS[field]);
  return options;
}

async function openModel(args: ParsedArgs, io: CliIO): Promise<LlavaModel> {
  const model = str(args, 'model');
  const llava = str(args, 'llava');
  const base = str(args, 'base');
  const threads = str(args, 'threads') === undefined ? undefined : int(args, 'threads', 0);
  if (model && (llava || base))
    throw inputError('cli.bad_args', 'give either --model BUNDLE or --llava DIR --base DIR', {
      field: '--model',
    });
  if (model) return openBundleModel(resolve(io.cwd, model), { threads });
  if (!llava || !base)
    throw inputError('cli.bad_args', `give --model BUNDLE, or --llava DIR --base DIR; ${PULL_HINT}`, {
      field: '--model',
    });
  const dtype = choice<BundleDtype>(args, 'dtype', BUNDLE_DTYPES, 'fp32');
  return withPullHint(() =>
    openReleasedModel(resolve(io.cwd, llava), resolve(io.cwd, base), { threads, dtype }),
  );
}

function timingLine(r: FindingsResult): string {
  const t = r.timings;
  return `preprocess ${t.preprocess_ms} ms | vision ${t.vision_ms} ms | prefill ${t.prefill_ms} ms (${r.prompt_tokens} prompt ids) | decode ${t.decode_ms} ms, ${r.token_ids.length} tokens, ${t.decode_tokens_per_s} tok/s`;
}

function progressLine(p: BatchProgress, tty: boolean): string {
  const status = p.last && 'error' in p.last ? `error: ${p.last.error.message}` : 'ok';
  const head = `[${p.done}/${p.total}] ${p.last?.id ?? ''} ${p.last ? status : 'starting'}`;
  if (!tty) return `${head} (skipped ${p.skipped}, failed ${p.failed})\n`;
  const width = 30;
  const filled = Math.round((width * p.done) / Math.max(1, p.total));
  return `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} failed ${p.failed}`;
}

export const findingsCommand: Command = {
  name: 'findings',
  summary: 'Draft the Findings section of chest X-rays with LLaVA-Rad (streams as it writes).',
  usage:
    'IMAGE... (--model BUNDLE | --llava DIR --base DIR) [--indication TEXT] [--max-new-tokens N] [--json]\n       cxr findings --batch FOLDER|LIST.jsonl --out RESULTS.jsonl [--resume] --model BUNDLE',
  options: {
    model: { type: 'string', valueName: 'BUNDLE', description: 'a bundle made by `cxr import`' },
    llava: {
      type: 'string',
      valueName: 'DIR',
      description: 'the released microsoft/llava-rad folder (imports on the fly)',
    },
    base: { type: 'string', valueName: 'DIR', description: 'the released lmsys/vicuna-7b-v1.5 folder' },
    dtype: {
      type: 'string',
      valueName: 'DTYPE',
      description: 'with --llava: fp32 | fp16 | int8 | int4',
      default: 'fp32',
    },
    indication: {
      type: 'string',
      valueName: 'TEXT',
      description: 'clinical indication (newlines become spaces)',
    },
    instruction: {
      type: 'string',
      valueName: 'KIND',
      description: `${INSTRUCTION_KINDS.join(' | ')}`,
      default: 'findings',
    },
    'max-new-tokens': {
      type: 'string',
      valueName: 'N',
      description: 'stop after N tokens',
      default: `${D.maxNewTokens}`,
    },
    temperature: {
      type: 'string',
      valueName: 'T',
      description: '0 = greedy; > 0 samples',
      default: `${D.temperature}`,
    },
    'top-p': { type: 'string', valueName: 'P', description: 'nucleus sampling mass', default: `${D.topP}` },
    'top-k': {
      type: 'string',
      valueName: 'K',
      description: 'sample from the K best (0 = all)',
      default: `${D.topK}`,
    },
    seed: { type: 'string', valueName: 'N', description: 'sampling seed', default: `${D.seed}` },
    'num-beams': {
      type: 'string',
      valueName: 'N',
      description: 'beam search with N beams',
      default: `${D.numBeams}`,
    },
    stop: {
      type: 'string',
      multiple: true,
      valueName: 'TEXT',
      description: 'stop when the text contains TEXT',
    },
    threads: { type: 'string', valueName: 'N', description: 'ONNX Runtime intra-op threads' },
    json: {
      type: 'boolean',
      description: 'one JSON line per image: {image, findings, token_ids, timings, ...}',
    },
    batch: {
      type: 'string',
      valueName: 'PATH',
      description: 'a folder of images or a JSONL list ({"image", "id"?, "indication"?})',
    },
    out: {
      type: 'string',
      valueName: 'FILE',
      description: 'with --batch: JSONL results, one line per study',
    },
    resume: {
      type: 'boolean',
      description:
        'with --batch: skip studies already in --out (failed ones too: delete their lines to retry)',
    },
    'allow-lateral': { type: 'boolean', description: 'accept lateral views' },
    'allow-non-chest': { type: 'boolean', description: 'skip the chest radiograph check' },
  },
  details: `Decoding follows the paper: greedy, at most ${D.maxNewTokens} new tokens, stop at </s>; the answer is stripped and a
trailing </s> dropped. Timings per stage go to stderr (or into the JSON). Without weights: ${PULL_HINT}, then
\`cxr import\` them into a bundle.`,
  async run(args, io) {
    const batch = str(args, 'batch');
    if ((batch === undefined) === (args.positionals.length === 0)) {
      io.stderr('cxr findings: give IMAGE... or --batch PATH --out FILE (see --help)\n');
      return 2;
    }
    const studies = batch ? readStudies(resolve(io.cwd, batch)) : null;
    const out = str(args, 'out');
    if (studies && !out) throw inputError('cli.bad_args', '--batch needs --out FILE', { field: '--out' });
    // Without --batch, --out would be ignored and the results the user meant to keep only printed.
    if (!studies && (out !== undefined || flag(args, 'resume')))
      throw inputError('cli.bad_args', 'only with --batch; IMAGE... prints to stdout (use --json > FILE)', {
        field: out !== undefined ? '--out' : '--resume',
      });
    const options = studyOptions(args); // bad options fail before the model loads
    if (studies) await checkBatchOutput(resolve(io.cwd, out!), flag(args, 'resume'));
    const model = await openModel(args, io);
    try {
      return studies
        ? await batchMode(model, studies, options, args, io)
        : await imageMode(model, options, args, io);
    } finally {
      await model.dispose();
    }
  },
};

type StudyOptions = ReturnType<typeof studyOptions>;

function studyOptions(args: ParsedArgs) {
  return {
    instruction: choice<InstructionKind>(args, 'instruction', INSTRUCTION_KINDS, 'findings'),
    generation: generationOptions(args),
    image: { allowLateral: flag(args, 'allow-lateral'), allowNonChest: flag(args, 'allow-non-chest') },
  };
}

/** IMAGE...: stream each image's findings (or print one JSON line per image with --json). */
async function imageMode(model: LlavaModel, all: StudyOptions, args: ParsedArgs, io: CliIO): Promise<number> {
  const { instruction, ...options } = all;
  const indication = str(args, 'indication') ?? null;
  const json = flag(args, 'json');
  const images = args.positionals;
  for (const image of images) {
    const printer = new FindingsStream(PROMPT.stopString);
    if (!json && images.length > 1) io.stdout(`${image}:\n`);
    const onToken = json ? undefined : (e: TokenEvent) => io.stdout(printer.push(e.text));
    const result = await runFindings(
      model,
      { image: resolve(io.cwd, image), indication, instruction },
      { ...options, generation: { ...options.generation, onToken } },
    );
    if (json) io.stdout(`${JSON.stringify({ ...result, image })}\n`);
    else {
      io.stdout(`${printer.end(result.findings)}\n`);
      io.stderr(`${timingLine(result)}\n`);
    }
  }
  return 0;
}

/** --batch: one JSONL line per study, progress on stderr; exit 2 when a study failed. */
async function batchMode(
  model: LlavaModel,
  studies: Study[],
  options: StudyOptions,
  args: ParsedArgs,
  io: CliIO,
): Promise<number> {
  const out = resolve(io.cwd, str(args, 'out')!);
  // Ctrl-C: finished studies are already whole lines in `out`; say how to carry on.
  const onInterrupt = () => {
    io.stderr(
      `\ncxr findings: interrupted; finished studies are in ${out}; rerun with --resume to continue\n`,
    );
    process.exit(EXIT_INTERRUPTED);
  };
  process.once('SIGINT', onInterrupt);
  const summary = await runBatch(model, studies, {
    ...options,
    out,
    resume: flag(args, 'resume'),
    onProgress: (p) => io.stderr(progressLine(p, io.isTTY)),
  }).finally(() => process.off('SIGINT', onInterrupt));
  if (io.isTTY) io.stderr('\n');
  io.stdout(
    `${summary.written} written, ${summary.skipped} skipped, ${summary.failed} failed of ${summary.total}\n`,
  );
  return summary.failed > 0 ? 2 : 0;
}
