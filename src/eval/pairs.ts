/**
 * Read predictions and references and join them on id. Documented behaviour for bad input:
 * - a row without the id or text field, a non-string text, a duplicate id within a file: error (exit 2), naming
 *   the file, line and id;
 * - ids present in only one file: a warning with counts and examples, and only the matched pairs are scored
 *   (`requireAll` turns this into an error);
 * - null / NaN texts: scored as empty text, with a warning; empty texts are scored as the reference
 *   implementations score them (BLEU and ROUGE-L 0), with a warning;
 * - texts longer than `maxChars`: error (a findings section is a few thousand characters; a longer text is
 *   usually a wrong column or a concatenation, and the LCS grows with the product of lengths): raise the limit
 *   explicitly to score it.
 */
import { inputError } from '../errors.js';
import { type FileFormat, formatOf, type RecordStats, readRecords } from './records.js';

export const DEFAULT_MAX_CHARS = 100_000;
/** Column names when the user names none: LLaVA-Rad's output files use these. */
export const DEFAULT_FIELDS = { id: 'id', prediction: 'prediction', reference: 'reference' } as const;
const PROGRESS_EVERY_ROWS = 50_000;
const EXAMPLES_SHOWN = 5;

export interface PairInputOptions {
  /** file with predictions; holds references too when `ref` is not given (LLaVA-Rad's JSONL) */
  pred: string;
  ref?: string;
  format?: string;
  idField?: string;
  predField?: string;
  refField?: string;
  maxChars?: number;
  requireAll?: boolean;
  onProgress?: (message: string) => void;
}

export interface Pairs {
  ids: string[];
  predictions: string[];
  references: string[];
  warnings: string[];
  /** ids found only among the predictions / only among the references */
  predictionOnly: string[];
  referenceOnly: string[];
}

interface TextColumn {
  texts: Map<string, string>;
  order: string[];
  nulls: string[];
}

interface ColumnSpec {
  file: string;
  format: FileFormat;
  idField: string;
  fields: string[];
  maxChars: number;
  onProgress?: (message: string) => void;
  /** what to do about a missing text field (names the options) */
  fieldHint?: string;
}

function idOf(fields: Record<string, unknown>, file: string, line: number, idField: string): string {
  const value = fields[idField];
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  // Without the field, show the ones there are: 'id;prediction;reference' says "semicolons" at a glance.
  const present = Object.keys(fields).map((k) => JSON.stringify(k));
  throw inputError('eval.bad_id', `line ${line}: missing or unusable id`, {
    file,
    field: idField,
    expected: 'a non-empty string or a number (--id-field names another column)',
    found:
      value === undefined ? `no such field; the fields are ${present.join(', ')}` : JSON.stringify(value),
  });
}

function textOf(
  row: Record<string, unknown>,
  field: string,
  spec: ColumnSpec,
  line: number,
  id: string,
): string | null {
  if (!(field in row)) {
    throw inputError('eval.missing_field', `line ${line} (id ${id}) has no '${field}' field`, {
      file: spec.file,
      field,
      expected: spec.fieldHint,
      found: `fields ${Object.keys(row).join(', ')}`,
    });
  }
  const v = row[field];
  if (v === null) return null;
  if (typeof v !== 'string') {
    throw inputError('eval.bad_text', `line ${line} (id ${id}): the text is not a string`, {
      file: spec.file,
      field,
      expected: 'a string (or null / NaN for a missing text)',
      found: typeof v,
    });
  }
  if (v.length > spec.maxChars) {
    throw inputError('eval.text_too_long', `line ${line} (id ${id}): text of ${v.length} characters`, {
      file: spec.file,
      field,
      expected: `at most ${spec.maxChars} characters (raise with --max-chars)`,
    });
  }
  return v;
}

/** Read the named text fields of a file, keyed by id. */
async function readColumns(spec: ColumnSpec): Promise<TextColumn[]> {
  const columns: TextColumn[] = spec.fields.map(() => ({ texts: new Map(), order: [], nulls: [] }));
  const firstLine = new Map<string, number>();
  const stats: RecordStats = { nanLiteralRows: 0 };
  let rows = 0;
  for await (const { fields, line } of readRecords(spec.file, spec.format, stats)) {
    const id = idOf(fields, spec.file, line, spec.idField);
    const seen = firstLine.get(id);
    if (seen !== undefined) {
      throw inputError('eval.duplicate_id', `id ${id} appears twice (lines ${seen} and ${line})`, {
        file: spec.file,
        field: spec.idField,
        expected: 'each id once per file',
      });
    }
    firstLine.set(id, line);
    spec.fields.forEach((field, k) => {
      const text = textOf(fields, field, spec, line, id);
      const col = columns[k]!;
      if (text === null) col.nulls.push(id);
      col.texts.set(id, text ?? '');
      col.order.push(id);
    });
    if (++rows % PROGRESS_EVERY_ROWS === 0)
      spec.onProgress?.(`read ${rows.toLocaleString('en-US')} rows of ${spec.file}`);
  }
  if (rows === 0)
    throw inputError('eval.empty_file', 'no rows', { file: spec.file, expected: 'at least one row' });
  return columns;
}

function examples(ids: readonly string[]): string {
  const shown = ids.slice(0, EXAMPLES_SHOWN).join(', ');
  return ids.length > EXAMPLES_SHOWN ? `${shown}, ...` : shown;
}

export async function readPairs(o: PairInputOptions): Promise<Pairs> {
  const idField = o.idField ?? DEFAULT_FIELDS.id;
  const predField = o.predField ?? DEFAULT_FIELDS.prediction;
  const refField = o.refField ?? DEFAULT_FIELDS.reference;
  const maxChars = o.maxChars ?? DEFAULT_MAX_CHARS;
  const spec = (file: string, fields: string[]): ColumnSpec => ({
    file,
    format: formatOf(file, o.format),
    idField,
    fields,
    maxChars,
    onProgress: o.onProgress,
  });
  let pred: TextColumn;
  let ref: TextColumn;
  if (o.ref === undefined) {
    const oneFile = {
      ...spec(o.pred, [predField, refField]),
      fieldHint: `'${predField}' and '${refField}' in one file, or --ref FILE for references in another (field names: --pred-field, --ref-field)`,
    };
    [pred, ref] = (await readColumns(oneFile)) as [TextColumn, TextColumn];
  } else {
    [pred] = (await readColumns(spec(o.pred, [predField]))) as [TextColumn];
    [ref] = (await readColumns(spec(o.ref, [refField]))) as [TextColumn];
  }
  return join(pred, ref, o);
}

/**
 * Ids that look the same but are different strings: Unicode normalisation (an é typed on a Mac is NFD, elsewhere
 * NFC) or spaces around them. Printed side by side they are indistinguishable, so the message says why.
 */
function nearMisses(predictionOnly: string[], referenceOnly: string[]): string | undefined {
  const canonical = (id: string) => id.normalize('NFC').trim();
  const refs = new Set(referenceOnly.map(canonical));
  const near = predictionOnly.filter((id) => refs.has(canonical(id)));
  if (near.length === 0) return undefined;
  const shown = near.slice(0, 3).map((id) => JSON.stringify(id));
  return `${near.length} of them differ only in Unicode normalisation (NFC/NFD) or surrounding spaces, e.g. ${shown.join(', ')}`;
}

function join(pred: TextColumn, ref: TextColumn, o: PairInputOptions): Pairs {
  const ids = pred.order.filter((id) => ref.texts.has(id));
  const predictionOnly = pred.order.filter((id) => !ref.texts.has(id));
  const referenceOnly = ref.order.filter((id) => !pred.texts.has(id));
  const warnings: string[] = [];
  const refFile = o.ref ?? o.pred;
  if (predictionOnly.length > 0 || referenceOnly.length > 0) {
    const parts: string[] = [];
    if (predictionOnly.length > 0)
      parts.push(`${predictionOnly.length} ids only in ${o.pred} (${examples(predictionOnly)})`);
    if (referenceOnly.length > 0)
      parts.push(`${referenceOnly.length} ids only in ${refFile} (${examples(referenceOnly)})`);
    const near = nearMisses(predictionOnly, referenceOnly);
    if (near) parts.push(near);
    const message = `${parts.join('; ')}: scoring the ${ids.length} ids present in both`;
    if (o.requireAll || ids.length === 0) {
      throw inputError(
        'eval.unmatched_ids',
        ids.length === 0 ? `no id is in both files: ${parts.join('; ')}` : message,
        {
          file: o.pred,
          expected: 'the same ids in predictions and references',
        },
      );
    }
    warnings.push(message);
  }
  const predictions = ids.map((id) => pred.texts.get(id)!);
  const references = ids.map((id) => ref.texts.get(id)!);
  const inPairs = new Set(ids);
  const nullPred = pred.nulls.filter((id) => inPairs.has(id));
  const nullRef = ref.nulls.filter((id) => inPairs.has(id));
  if (nullPred.length > 0)
    warnings.push(
      `${nullPred.length} predictions are null/NaN, scored as empty text (${examples(nullPred)})`,
    );
  if (nullRef.length > 0)
    warnings.push(`${nullRef.length} references are null/NaN, scored as empty text (${examples(nullRef)})`);
  const blank = (texts: string[]) => ids.filter((_, i) => texts[i]!.trim() === '');
  const emptyPred = blank(predictions);
  const emptyRef = blank(references);
  if (emptyPred.length > 0)
    warnings.push(`${emptyPred.length} predictions are empty or whitespace (${examples(emptyPred)})`);
  if (emptyRef.length > 0)
    warnings.push(`${emptyRef.length} references are empty or whitespace (${examples(emptyRef)})`);
  return { ids, predictions, references, warnings, predictionOnly, referenceOnly };
}

export interface SystemsInputOptions extends Omit<PairInputOptions, 'pred' | 'ref'> {
  ref: string;
  preds: string[];
}

export interface Systems {
  ids: string[];
  references: string[];
  systems: { file: string; predictions: string[] }[];
  warnings: string[];
}

/** References plus several prediction files, joined on the ids present in every file. */
export async function readSystems(o: SystemsInputOptions): Promise<Systems> {
  const base = {
    idField: o.idField ?? DEFAULT_FIELDS.id,
    maxChars: o.maxChars ?? DEFAULT_MAX_CHARS,
    onProgress: o.onProgress,
  };
  const spec = (file: string, field: string): ColumnSpec => ({
    ...base,
    file,
    format: formatOf(file, o.format),
    fields: [field],
  });
  const [ref] = (await readColumns(spec(o.ref, o.refField ?? DEFAULT_FIELDS.reference))) as [TextColumn];
  const preds: TextColumn[] = [];
  for (const file of o.preds)
    preds.push(
      ((await readColumns(spec(file, o.predField ?? DEFAULT_FIELDS.prediction))) as [TextColumn])[0],
    );
  const ids = ref.order.filter((id) => preds.every((p) => p.texts.has(id)));
  const warnings: string[] = [];
  const missing = ref.order.length - ids.length;
  const extra = preds.map((p, k) => ({ file: o.preds[k]!, ids: p.order.filter((id) => !ref.texts.has(id)) }));
  if (missing > 0)
    warnings.push(`${missing} reference ids lack a prediction in at least one system: scoring ${ids.length}`);
  for (const e of extra) {
    if (e.ids.length > 0) warnings.push(`${e.ids.length} ids only in ${e.file} (${examples(e.ids)})`);
  }
  if (ids.length === 0 || (o.requireAll && warnings.length > 0)) {
    throw inputError(
      'eval.unmatched_ids',
      ids.length === 0 ? 'no id is in every file' : warnings.join('; '),
      {
        file: o.ref,
        expected: 'the same ids in the references and every prediction file',
      },
    );
  }
  const inPairs = new Set(ids);
  for (const [k, p] of preds.entries()) {
    const nulls = p.nulls.filter((id) => inPairs.has(id));
    if (nulls.length > 0)
      warnings.push(`${o.preds[k]}: ${nulls.length} predictions are null/NaN, scored as empty text`);
  }
  return {
    ids,
    references: ids.map((id) => ref.texts.get(id)!),
    systems: preds.map((p, k) => ({ file: o.preds[k]!, predictions: ids.map((id) => p.texts.get(id)!) })),
    warnings,
  };
}
