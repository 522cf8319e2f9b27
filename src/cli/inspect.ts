import { isCxrError } from '../errors.js';
import { enforceVerdict, type ImageMetadata, inspectImage, loadImage, type Verdict } from '../image/index.js';
import { type Command, flag } from './command.js';

interface Row {
  file: string;
  ok: boolean;
  metadata?: ImageMetadata;
  verdict?: Verdict;
  error?: Record<string, unknown>;
}

const FIELDS: Array<[keyof ImageMetadata, string]> = [
  ['format', 'format'],
  ['modality', 'Modality'],
  ['viewPosition', 'ViewPosition'],
  ['bodyPartExamined', 'BodyPartExamined'],
  ['photometricInterpretation', 'PhotometricInterpretation'],
  ['bitDepth', 'bit depth'],
  ['channels', 'samples per pixel'],
  ['numberOfFrames', 'frames'],
  ['viewCode', 'view code'],
  ['rendering', 'grey mapping'],
];

/** Header only, or (with --decode) a full decode so that broken pixel data shows up too. */
async function examine(file: string, decode: boolean) {
  if (!decode) return inspectImage(file);
  const { metadata, verdict } = await loadImage(file, { allowLateral: true, allowNonChest: true });
  return { metadata, verdict };
}

function formatRow(row: Row): string {
  if (!row.metadata || !row.verdict) return `${row.file}\n  error: ${String(row.error?.message)}\n`;
  const m = row.metadata;
  const lines = [row.file, `  size: ${m.width}x${m.height}`];
  for (const [key, label] of FIELDS) if (m[key] !== undefined) lines.push(`  ${label}: ${String(m[key])}`);
  if (m.transferSyntax) lines.push(`  transfer syntax: ${m.transferSyntax} (${m.transferSyntaxName})`);
  lines.push(`  verdict: ${row.verdict.status}${row.ok ? '' : ' (refused)'}`);
  for (const r of row.verdict.reasons) lines.push(`    - ${r}`);
  return `${lines.join('\n')}\n`;
}

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'Print each image’s metadata and whether it is a frontal chest radiograph the model can read.',
  usage: 'IMAGE... [--json] [--decode] [--allow-lateral] [--allow-non-chest]',
  options: {
    json: { type: 'boolean', description: 'print one JSON array for machines' },
    decode: { type: 'boolean', description: 'also decode the pixels (finds broken pixel data; slower)' },
    'allow-lateral': { type: 'boolean', description: 'count lateral views as accepted' },
    'allow-non-chest': { type: 'boolean', description: 'count anything readable as accepted' },
  },
  details: `Reads headers only unless --decode. PNG, JPEG and DICOM Part 10 are recognised by their bytes.
Exit status: 0 when every image is accepted, 2 when any is unreadable, not a chest radiograph, or a lateral
view (unless allowed).`,
  async run(args, io) {
    if (args.positionals.length === 0) {
      io.stderr('cxr inspect: give at least one IMAGE (see --help)\n');
      return 2;
    }
    const overrides = {
      allowLateral: flag(args, 'allow-lateral'),
      allowNonChest: flag(args, 'allow-non-chest'),
    };
    const rows: Row[] = [];
    for (const file of args.positionals) {
      try {
        const { metadata, verdict } = await examine(file, flag(args, 'decode'));
        let ok = true;
        try {
          enforceVerdict(file, verdict, overrides);
        } catch {
          ok = false;
        }
        rows.push({ file, ok, metadata, verdict });
      } catch (e) {
        if (!isCxrError(e) || e.kind !== 'input') throw e;
        rows.push({ file, ok: false, error: e.toJSON() });
        if (!flag(args, 'json')) io.stderr(`cxr inspect: error: ${e.message}\n`);
      }
    }
    if (flag(args, 'json')) io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
    else
      io.stdout(
        rows
          .filter((r) => r.metadata)
          .map(formatRow)
          .join('\n'),
      );
    return rows.every((r) => r.ok) ? 0 : 2;
  },
};
