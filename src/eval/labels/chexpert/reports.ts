/**
 * Reading reports to label (JSONL, CSV with or without a header, plain text one report per line) and writing
 * labels (JSONL, or CSV in the official labeler's `labeled_reports.csv` layout).
 */
import { extname } from 'node:path';
import { inputError } from '../../../errors.js';
import { readLines } from '../../lines.js';
import { JSONL_EXTENSIONS, readRecords } from '../../records.js';
import { CHEXPERT_OBSERVATIONS, type Labels14, type LabelValue } from './observations.js';

export type ReportFormat = 'jsonl' | 'csv' | 'text';

export interface ReportRow {
  /** The row's id (an `id` or `uid` field) when the input has one. */
  id?: string | number;
  text: string;
  /** Reference labels carried by the row (a `labels` object or the 14 observation columns), if any. */
  labels?: Labels14;
}

/** Field names tried, in order, for the report text when `--field` is not given. */
export const TEXT_FIELDS = ['text', 'report', 'reports', 'Reports', 'findings', 'prediction', 'reference'];
const ID_FIELDS = ['id', 'uid'];

export function reportFormatOf(file: string, explicit?: string): ReportFormat {
  if (explicit === 'jsonl' || explicit === 'csv' || explicit === 'text') return explicit;
  if (explicit !== undefined) {
    throw inputError('label.bad_format', 'unknown input format', {
      field: '--format',
      expected: 'jsonl, csv or text',
      found: explicit,
    });
  }
  const ext = extname(file).toLowerCase();
  if (JSONL_EXTENSIONS.has(ext)) return 'jsonl';
  if (ext === '.csv') return 'csv';
  return 'text';
}

function textField(fields: Record<string, unknown>, explicit: string | undefined): string | undefined {
  if (explicit !== undefined) return explicit in fields ? explicit : undefined;
  return TEXT_FIELDS.find((f) => f in fields);
}

function labelValue(v: unknown): LabelValue {
  if (v === 1 || v === 0 || v === -1) return v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    if (n === 1 || n === 0 || n === -1) return n;
  }
  return null;
}

/** Reference labels in a row: a `labels` object, or top-level observation columns. */
function labelsOf(fields: Record<string, unknown>): Labels14 | undefined {
  const source =
    fields.labels !== null && typeof fields.labels === 'object'
      ? (fields.labels as Record<string, unknown>)
      : fields;
  if (!CHEXPERT_OBSERVATIONS.some((o) => o in source)) return undefined;
  const labels = {} as Labels14;
  for (const o of CHEXPERT_OBSERVATIONS) labels[o] = labelValue(source[o]);
  return labels;
}

function rowOf(fields: Record<string, unknown>, field: string, line: number, file: string): ReportRow {
  const value = fields[field];
  if (value !== null && value !== undefined && typeof value !== 'string') {
    throw inputError('label.bad_text', `row on line ${line}: the report text is not a string`, {
      file,
      field,
      found: typeof value,
    });
  }
  const idKey = ID_FIELDS.find((k) => k in fields);
  const id = idKey === undefined ? undefined : (fields[idKey] as string | number);
  return { id, text: value ?? '', labels: labelsOf(fields) };
}

/**
 * Reports of a file, streamed. A CSV whose header names no text column and has a single column is read as the
 * official labeler's input: no header, one report per row.
 */
export async function* readReports(
  file: string,
  format: ReportFormat,
  field?: string,
): AsyncGenerator<ReportRow> {
  if (format === 'text') {
    for await (const { text } of readLines(file)) if (text.trim() !== '') yield { text };
    return;
  }
  let chosen: string | undefined;
  let first = true;
  for await (const { fields, line } of readRecords(file, format, { nanLiteralRows: 0 })) {
    if (first) {
      first = false;
      chosen = textField(fields, field);
      const columns = Object.keys(fields);
      if (chosen === undefined && format === 'csv' && columns.length === 1 && field === undefined) {
        // Headerless single-column CSV: the "header" was the first report.
        chosen = columns[0]!;
        yield { text: chosen };
      } else if (chosen === undefined) {
        throw inputError('label.no_text', 'cannot find the report text', {
          file,
          field: field ?? 'text column',
          expected: field === undefined ? `one of ${TEXT_FIELDS.join(', ')} (or pass --field)` : field,
          found: columns.join(', ') || 'no fields',
        });
      }
    }
    yield rowOf(fields, chosen!, line, file);
  }
}

/** A label as the official labeler's CSV writes it (pandas floats, blank for not mentioned). */
function csvValue(v: LabelValue): string {
  return v === null ? '' : v.toFixed(1);
}

/** Quote a CSV field only when it needs it (comma, quote or line break), as pandas does. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export const CSV_HEADER = `Reports,${CHEXPERT_OBSERVATIONS.join(',')}\n`;

export function csvRow(text: string, labels: Labels14): string {
  return `${[csvField(text), ...CHEXPERT_OBSERVATIONS.map((o) => csvValue(labels[o]))].join(',')}\n`;
}

export function jsonlRow(row: ReportRow, labels: Labels14): string {
  return `${JSON.stringify(row.id === undefined ? { labels } : { id: row.id, labels })}\n`;
}
