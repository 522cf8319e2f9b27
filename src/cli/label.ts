import { resolve } from 'node:path';
import { inputError } from '../errors.js';
import {
  agreement,
  CSV_HEADER,
  csvRow,
  formatAgreement,
  jsonlRow,
  type Labels14,
  labelReport,
  type ReportRow,
  readReports,
  reportFormatOf,
} from '../eval/labels/chexpert/index.js';
import { CHEXBERT_OPTIONS, chexbertLabelLines, labelerName } from './chexbert-options.js';
import { type CliIO, type Command, flag, type ParsedArgs, str } from './command.js';
import { writeAtomic } from './output.js';

export const labelCommand: Command = {
  name: 'label',
  summary:
    'Label reports with the 14 CheXpert observations (rule-based labeler or CheXbert: 1, 0, -1, blank).',
  usage: '[FILE] [--output FILE] [--output-format jsonl|csv] [--agreement REF.jsonl [--json]]',
  options: {
    format: {
      type: 'string',
      valueName: 'jsonl|csv|text',
      description:
        'input format (default: from the extension; other extensions are plain text, one report per line)',
    },
    field: {
      type: 'string',
      valueName: 'NAME',
      description:
        'field holding the report text (default: text, report, reports, findings, prediction or reference)',
    },
    output: {
      type: 'string',
      short: 'o',
      valueName: 'FILE',
      description: 'write labels here instead of stdout',
    },
    'output-format': {
      type: 'string',
      valueName: 'jsonl|csv',
      description: 'jsonl ({id, labels} per line) or csv (the official labeled_reports.csv layout)',
      default: 'jsonl',
    },
    agreement: {
      type: 'string',
      valueName: 'REF.jsonl',
      description:
        "compare with reference labels ({id|uid, labels}); without FILE the reference rows' own text is labelled",
    },
    json: { type: 'boolean', description: 'with --agreement: print the agreement as JSON' },
    ...CHEXBERT_OPTIONS,
  },
  details: `Input: JSONL or CSV with a text column, the official labeler's headerless one-column CSV, or plain text.
Each report's labels are written in input order. With --agreement, prints the cell agreement, the agreement on
non-blank cells, binarised micro-F1 in both uncertainty conventions, and every observation x class F1 with its
confusion.`,
  async run(args, io) {
    const ref = str(args, 'agreement');
    const file = args.positionals[0];
    if (args.positionals.length > 1) {
      throw inputError('cli.bad_args', 'cxr label takes one input file', {
        found: args.positionals.join(' '),
      });
    }
    if (ref !== undefined && labelerName(args) === 'chexbert')
      throw inputError('cli.bad_option', '--agreement checks the rule labeler', { field: '--labeler' });
    if (ref !== undefined) return runAgreement(args, io, resolve(io.cwd, ref), file && resolve(io.cwd, file));
    if (file === undefined) {
      throw inputError('cli.bad_args', 'cxr label needs an input file (or --agreement REF.jsonl)', {
        field: 'FILE',
      });
    }
    return runLabel(args, io, resolve(io.cwd, file));
  },
};

function outputFormat(args: ParsedArgs): 'jsonl' | 'csv' {
  const f = str(args, 'output-format') ?? 'jsonl';
  if (f !== 'jsonl' && f !== 'csv') {
    throw inputError('cli.bad_option', 'unknown output format', {
      field: '--output-format',
      expected: 'jsonl or csv',
      found: f,
    });
  }
  return f;
}

async function runLabel(args: ParsedArgs, io: CliIO, file: string): Promise<number> {
  const format = outputFormat(args);
  const out = str(args, 'output');
  const tally = { count: 0, empty: 0 };
  const lines =
    labelerName(args) === 'chexbert'
      ? chexbertLabelLines(args, io, file, format, tally)
      : labelLines(args, file, format, tally);
  if (out === undefined) for await (const line of lines) io.stdout(line);
  else await writeAtomic(resolve(io.cwd, out), lines);
  if (tally.empty > 0) {
    io.stderr(
      `cxr label: warning: ${tally.empty} of ${tally.count} reports are empty${labelerName(args) === 'rule' ? '; like the official labeler they get No Finding 1 and nothing else' : ''}\n`,
    );
  }
  if (out !== undefined) io.stderr(`cxr label: ${tally.count} reports -> ${out}\n`);
  return 0;
}

/** The output lines in input order, labelling each report as it is read; counts reports and empty ones. */
async function* labelLines(
  args: ParsedArgs,
  file: string,
  format: 'jsonl' | 'csv',
  tally: { count: number; empty: number },
): AsyncGenerator<string> {
  if (format === 'csv') yield CSV_HEADER;
  for await (const row of readReports(file, reportFormatOf(file, str(args, 'format')), str(args, 'field'))) {
    const labels = labelReport(row.text);
    yield format === 'csv' ? csvRow(row.text, labels) : jsonlRow(row, labels);
    tally.count++;
    if (row.text.trim() === '') tally.empty++;
  }
  // An empty input is almost always the wrong file; succeeding with no output would hide that.
  if (tally.count === 0) throw inputError('label.empty', 'no reports in the file', { file });
}

async function collect(file: string, args: ParsedArgs): Promise<ReportRow[]> {
  const rows: ReportRow[] = [];
  for await (const row of readReports(file, reportFormatOf(file, str(args, 'format')), str(args, 'field')))
    rows.push(row);
  return rows;
}

async function runAgreement(
  args: ParsedArgs,
  io: CliIO,
  refFile: string,
  file: string | undefined,
): Promise<number> {
  const refs = await collect(refFile, { ...args, values: { ...args.values, format: 'jsonl' } });
  const missing = refs.findIndex((r) => r.labels === undefined);
  if (missing >= 0) {
    throw inputError('label.no_labels', `reference row ${missing + 1} has no labels`, {
      file: refFile,
      expected: 'a labels object or the 14 observation fields',
    });
  }
  let predicted: Labels14[];
  let reference: Labels14[];
  if (file === undefined) {
    predicted = refs.map((r) => labelReport(r.text));
    reference = refs.map((r) => r.labels!);
  } else {
    const byId = new Map(refs.map((r) => [String(r.id), r.labels!]));
    const rows = await collect(file, args);
    const joined = rows.filter((r) => r.id !== undefined && byId.has(String(r.id)));
    if (joined.length < rows.length) {
      io.stderr(
        `cxr label: ${rows.length - joined.length} of ${rows.length} reports have no reference labels (joined on id/uid) and are left out\n`,
      );
    }
    predicted = joined.map((r) => labelReport(r.text));
    reference = joined.map((r) => byId.get(String(r.id))!);
  }
  const a = agreement(predicted, reference);
  io.stdout(flag(args, 'json') ? `${JSON.stringify(a, null, 2)}\n` : formatAgreement(a));
  return 0;
}
