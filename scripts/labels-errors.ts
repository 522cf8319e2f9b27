/**
 * Error analysis for the CheXpert labeler: `npx tsx scripts/labels-errors.ts [OBS] [--limit N]` prints the
 * agreement summary and, for one observation (or all), each disagreeing report's sentences with the mention.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  agreement,
  type Labels14,
  labelReport,
  type Observation,
} from '../src/eval/labels/chexpert/index.js';
import { findMentions } from '../src/eval/labels/chexpert/mentions.js';
import { sentencesOf } from '../src/eval/labels/chexpert/text.js';

const file = join(import.meta.dirname, '..', '..', 'shared', 'data', 'iu-xray', 'chexpert-labels.dev.jsonl');
const rows = readFileSync(file, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { uid: number; text: string; labels: Labels14 });
const args = process.argv.slice(2);
const limitAt = args.indexOf('--limit');
const limit = limitAt >= 0 ? Number(args[limitAt + 1]) : 40;
const only = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--limit') as Observation | undefined;
const predicted = rows.map((r) => labelReport(r.text));
const a = agreement(
  predicted,
  rows.map((r) => r.labels),
);
console.log(
  `cells ${(a.cellAgreement * 100).toFixed(2)}%  non-blank ${(a.nonBlankAgreement * 100).toFixed(2)}%  micro-F1 u=0 ${a.microF1UncertainNegative.toFixed(4)} u=1 ${a.microF1UncertainPositive.toFixed(4)}`,
);
for (const c of a.classes) {
  if (c.support === 0 && c.fp === 0) continue;
  if (only && c.observation !== only) continue;
  console.log(
    `${c.observation.padEnd(27)} ${c.class.padEnd(9)} n=${String(c.support).padStart(4)} fp=${String(c.fp).padStart(3)} fn=${String(c.fn).padStart(3)} f1=${c.f1.toFixed(3)}`,
  );
}
if (only) {
  let shown = 0;
  rows.forEach((r, i) => {
    const want = r.labels[only];
    const got = predicted[i]![only];
    if (want === got || shown >= limit) return;
    shown++;
    const diff = Object.keys(r.labels)
      .filter((k) => r.labels[k as Observation] !== predicted[i]![k as Observation])
      .map((k) => `${k}: ${r.labels[k as Observation]}/${predicted[i]![k as Observation]}`);
    console.log(`\n#${r.uid} want ${want} got ${got}   {${diff.join(', ')}}`);
    for (const s of sentencesOf(r.text)) {
      const ms = findMentions(s).filter((m) => m.observation === only);
      if (ms.length > 0 || only === 'No Finding')
        console.log(`   ${s.text}  [${ms.map((m) => m.phrase).join(', ')}]`);
    }
  });
}

/** --blank: mention coverage only. Phrases that fire where the reference is blank, and texts it missed. */
if (args.includes('--blank')) {
  for (const o of Object.keys(rows[0]!.labels) as Observation[]) {
    if (o === 'No Finding' || (only && o !== only)) continue;
    const spurious = new Map<string, number>();
    const missed: string[] = [];
    rows.forEach((r) => {
      const ms = sentencesOf(r.text).flatMap((s) =>
        findMentions(s)
          .filter((m) => m.observation === o)
          .map((m) => ({ m, s })),
      );
      if (r.labels[o] === null)
        for (const { m, s } of ms)
          spurious.set(`${m.phrase} :: ${s.text.slice(Math.max(0, m.start - 30), m.end + 30)}`, 1);
      else if (ms.length === 0) missed.push(r.text);
    });
    console.log(`\n== ${o}: ${spurious.size} spurious, ${missed.length} missed`);
    for (const k of [...spurious.keys()].slice(0, limit)) console.log(`  + ${k}`);
    for (const t of missed.slice(0, limit)) console.log(`  - ${t}`);
  }
}
