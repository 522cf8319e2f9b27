/**
 * Rows of a JSONL or CSV file as plain objects, streamed. JSONL accepts the bare `NaN` / `Infinity` literals
 * that Python's json module writes (they become null and are counted); CSV follows RFC 4180 with quoted fields
 * that may span lines (CRLF inside a quoted field becomes LF), and an unquoted `NaN` cell is a missing value.
 */
import { statSync } from 'node:fs';
import { extname } from 'node:path';
import { inputError } from '../errors.js';
import { readLines } from './lines.js';

export type FileFormat = 'jsonl' | 'csv';

export interface RecordRow {
  fields: Record<string, unknown>;
  /** first line of the row */
  line: number;
}

export interface RecordStats {
  /** rows that contained bare NaN / Infinity literals */
  nanLiteralRows: number;
}

/** File extensions read as JSON Lines. */
export const JSONL_EXTENSIONS: ReadonlySet<string> = new Set(['.jsonl', '.ndjson', '.json']);

export function formatOf(file: string, explicit?: string): FileFormat {
  if (explicit === 'jsonl' || explicit === 'csv') return explicit;
  if (explicit !== undefined) {
    throw inputError('eval.bad_format', 'unknown input format', {
      field: '--format',
      expected: 'jsonl or csv',
      found: explicit,
    });
  }
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (JSONL_EXTENSIONS.has(ext)) return 'jsonl';
  // `--pred .` or a results folder: say so rather than complain about a missing extension.
  if (statSync(file, { throwIfNoEntry: false })?.isDirectory())
    throw inputError('eval.is_folder', 'is a folder', { file, expected: 'a JSONL or CSV file' });
  throw inputError('eval.bad_format', 'cannot tell the format from the file name', {
    file,
    expected: '.jsonl, .ndjson, .json or .csv (or pass --format)',
    found: ext || 'no extension',
  });
}

export async function* readRecords(
  file: string,
  format: FileFormat,
  stats: RecordStats,
): AsyncGenerator<RecordRow> {
  yield* format === 'csv' ? readCsv(file) : readJsonl(file, stats);
}

// Python's json.dumps(allow_nan=True) literals, matched only outside strings
const NON_FINITE = /NaN|-?Infinity/y;

/** Replace bare NaN / Infinity / -Infinity outside JSON strings with null; null when there are none. */
export function replaceNonFinite(line: string): string | null {
  let out = '';
  let last = 0;
  let inString = false;
  let found = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    if (c === 'N' || c === 'I' || c === '-') {
      NON_FINITE.lastIndex = i;
      const m = NON_FINITE.exec(line);
      if (m) {
        out += `${line.slice(last, i)}null`;
        i += m[0].length - 1;
        last = i + 1;
        found = true;
      }
    }
  }
  return found ? out + line.slice(last) : null;
}

async function* readJsonl(file: string, stats: RecordStats): AsyncGenerator<RecordRow> {
  for await (const { text, number } of readLines(file)) {
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      const fixed = replaceNonFinite(text);
      if (fixed === null) throw badJson(file, number, (e as Error).message);
      try {
        value = JSON.parse(fixed);
        stats.nanLiteralRows++;
      } catch (e2) {
        throw badJson(file, number, (e2 as Error).message);
      }
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw inputError('eval.bad_row', `line ${number} is not a JSON object`, {
        file,
        expected: 'one JSON object per line',
        found: Array.isArray(value) ? 'an array' : typeof value,
      });
    }
    yield { fields: value as Record<string, unknown>, line: number };
  }
}

function badJson(file: string, line: number, message: string) {
  return inputError('eval.bad_json', `line ${line} is not valid JSON (${message})`, { file });
}

/** Split one physical line into CSV fields, continuing a quoted field from the previous line if open. */
/** pandas writes missing values as NaN when asked to (`na_rep`): an unquoted NaN cell is a missing text. */
const CSV_NAN_CELL = /^(?:NaN|nan)$/;

class CsvAssembler {
  private fields: (string | null)[] = [];
  private field = '';
  private inQuotes = false;
  private fieldStarted = false;
  private quoted = false;

  private endField(): string | null {
    const value = !this.quoted && CSV_NAN_CELL.test(this.field) ? null : this.field;
    this.field = '';
    this.fieldStarted = false;
    this.quoted = false;
    return value;
  }
  startLine = 0;

  get open(): boolean {
    return this.inQuotes;
  }

  /** Feed a line; returns the completed record or null while a quoted field continues. */
  push(text: string, number: number, file: string): (string | null)[] | null {
    if (!this.inQuotes) this.startLine = number;
    else this.field += '\n';
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (this.inQuotes) {
        if (c !== '"') this.field += c;
        else if (text[i + 1] === '"') {
          this.field += '"';
          i++;
        } else this.inQuotes = false;
      } else if (c === '"' && !this.fieldStarted) {
        this.inQuotes = true;
        this.fieldStarted = true;
        this.quoted = true;
      } else if (c === ',') {
        this.fields.push(this.endField());
      } else if (c === '"') {
        throw inputError('eval.bad_csv', `line ${number}: a quote inside an unquoted field`, {
          file,
          expected: 'fields containing quotes to be quoted, with quotes doubled (RFC 4180)',
          found: text.length > 80 ? `${text.slice(0, 80)}...` : text,
        });
      } else {
        this.field += c;
        this.fieldStarted = true;
      }
    }
    if (this.inQuotes) return null;
    const record = [...this.fields, this.endField()];
    this.fields = [];
    return record;
  }
}

async function* readCsv(file: string): AsyncGenerator<RecordRow> {
  const csv = new CsvAssembler();
  let header: string[] | null = null;
  for await (const { text, number } of readLines(file)) {
    if (!csv.open && text === '') continue;
    const record = csv.push(text, number, file);
    if (record === null) continue;
    if (header === null) {
      header = record.map((h) => (h ?? 'NaN').trim());
      continue;
    }
    if (record.length !== header.length) {
      throw inputError('eval.bad_csv', `row starting on line ${csv.startLine} has ${record.length} fields`, {
        file,
        expected: `${header.length} fields as in the header (${header.join(', ')})`,
        found: `${record.length}`,
      });
    }
    const fields: Record<string, unknown> = {};
    header.forEach((h, j) => {
      fields[h] = record[j];
    });
    yield { fields, line: csv.startLine };
  }
  if (csv.open) {
    throw inputError('eval.bad_csv', `a quoted field opened on line ${csv.startLine} is never closed`, {
      file,
    });
  }
}
