/**
 * Agreement of the CheXpert labeler with the human (MeSH-coded) Open-I gold labels on the classes both share:
 * `npx tsx scripts/labels-gold.ts`. Gold labels code the whole report, so the labeler runs on findings and on
 * findings + impression; the official labeler's findings labels are scored too, for comparison.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Labels14, labelReport, type Observation } from '../src/eval/labels/chexpert/index.js';

const DATA = join(import.meta.dirname, '..', '..', 'shared', 'data', 'iu-xray');
const jsonl = <T>(name: string): T[] =>
  readFileSync(join(DATA, name), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);

const SHARED: Array<[string, Observation]> = [
  ['Atelectasis', 'Atelectasis'],
  ['Cardiomegaly', 'Cardiomegaly'],
  ['Effusion', 'Pleural Effusion'],
  ['Pneumonia', 'Pneumonia'],
  ['Pneumothorax', 'Pneumothorax'],
  ['Consolidation', 'Consolidation'],
  ['Edema', 'Edema'],
];

const reports = new Map(
  jsonl<{ uid: number; findings: string | null; impression: string | null }>('reports.dev.jsonl').map((r) => [
    r.uid,
    r,
  ]),
);
const official = new Map(
  jsonl<{ uid: number; labels: Labels14 }>('chexpert-labels.dev.jsonl').map((r) => [r.uid, r.labels]),
);
const gold = jsonl<{ uid: number; labels: Record<string, number> }>('openi-gold14.dev.jsonl').filter(
  (g) => official.has(g.uid) && reports.get(g.uid)?.findings,
);

const systems: Record<string, (uid: number) => Labels14> = {
  'ours, findings': (uid) => labelReport(reports.get(uid)!.findings ?? ''),
  'ours, findings+impression': (uid) => {
    const r = reports.get(uid)!;
    return labelReport([r.findings, r.impression].filter(Boolean).join(' '));
  },
  'official, findings': (uid) => official.get(uid)!,
};

console.log(`${gold.length} reports with gold labels, findings and official labels; positive = 1 (or 1/-1)`);
console.log(`${'system'.padEnd(26)} ${'class'.padEnd(14)} gold+  P      R      F1     F1(-1 as +)`);
for (const [name, labels] of Object.entries(systems)) {
  const cache = new Map(gold.map((g) => [g.uid, labels(g.uid)]));
  for (const [goldName, obs] of SHARED) {
    const score = (uncertainPositive: boolean) => {
      let tp = 0;
      let fp = 0;
      let fn = 0;
      for (const g of gold) {
        const v = cache.get(g.uid)![obs];
        const p = v === 1 || (uncertainPositive && v === -1);
        const t = g.labels[goldName] === 1;
        if (p && t) tp++;
        else if (p) fp++;
        else if (t) fn++;
      }
      return { tp, fp, fn, f1: tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn) };
    };
    const s = score(false);
    const u = score(true);
    const p = s.tp + s.fp === 0 ? 0 : s.tp / (s.tp + s.fp);
    const r = s.tp + s.fn === 0 ? 0 : s.tp / (s.tp + s.fn);
    console.log(
      `${name.padEnd(26)} ${goldName.padEnd(14)} ${String(s.tp + s.fn).padStart(5)}  ${p.toFixed(3)}  ${r.toFixed(3)}  ${s.f1.toFixed(3)}  ${u.f1.toFixed(3)}`,
    );
  }
}
