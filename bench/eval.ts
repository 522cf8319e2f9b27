/**
 * `npm run bench -- eval [--rounds N] [--json]`: throughput of the text metrics, label F1 and the bootstrap on the
 * 616 metric-refs pairs (../shared/data/metric-refs/dev.jsonl), repeated until each measurement takes >= 1 s.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate, METRICS } from '../src/eval/index.js';
import { labelF1Scores, labelReports } from '../src/eval/labels/index.js';
import { bootstrapMany } from '../src/eval/stats/index.js';
import { DATA } from './support/paths.js';

const MIN_SECONDS = 1;
const PAIRS = join(DATA, 'metric-refs', 'dev.jsonl');

interface Row {
  name: string;
  pairsPerSecond: number;
  seconds: number;
  pairs: number;
}

function measure(name: string, pairs: number, run: () => void, rounds: number): Row {
  run(); // warm-up: JIT and caches
  let done = 0;
  const start = performance.now();
  while (done < rounds || (performance.now() - start) / 1000 < MIN_SECONDS) {
    run();
    done++;
  }
  const seconds = (performance.now() - start) / 1000;
  return { name, pairsPerSecond: (pairs * done) / seconds, seconds, pairs: pairs * done };
}

export async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const roundsAt = argv.indexOf('--rounds');
  const rounds = roundsAt >= 0 ? Number(argv[roundsAt + 1]) : 3;
  const rows = readFileSync(PAIRS, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { prediction: string; reference: string });
  const preds = rows.map((r) => r.prediction);
  const refs = rows.map((r) => r.reference);
  const n = rows.length;
  const results: Row[] = [];
  for (const name of ['bleu1', 'bleu4', 'rougeL', 'rougeL-stem', 'cider']) {
    results.push(measure(name, n, () => METRICS[name]!.run(preds, refs), rounds));
  }
  results.push(
    measure('chexpert labeler (2 texts/pair)', n, () => labelReports([...preds, ...refs]), rounds),
  );
  const lp = labelReports(preds);
  const lr = labelReports(refs);
  results.push(
    measure('label F1 (8 numbers, given labels)', n, () => labelF1Scores(lp, lr, 'bench'), rounds),
  );
  const scored = evaluate(preds, refs, {
    metrics: ['bleu1', 'bleu4', 'rougeL', 'cider'],
    bootstrap: { resamples: 0 },
  });
  results.push(
    measure(
      'bootstrap 500 x 4 text metrics',
      n,
      () => bootstrapMany(scored.scores.map((s) => s.stats)),
      rounds,
    ),
  );
  const f1 = labelF1Scores(lp, lr, 'bench');
  results.push(measure('bootstrap 500 x 8 label F1', n, () => bootstrapMany(f1.map((s) => s.stats)), rounds));
  results.push(
    measure(
      'cxr eval default metrics + bootstrap',
      n,
      () => evaluate(preds, refs, { metrics: Object.keys(METRICS) }),
      1,
    ),
  );
  if (json) {
    process.stdout.write(`${JSON.stringify({ pairs: n, results }, null, 2)}\n`);
    return;
  }
  const width = Math.max(...results.map((r) => r.name.length));
  process.stdout.write(`metric-refs dev: ${n} pairs; node ${process.version}\n`);
  for (const r of results) {
    process.stdout.write(
      `${r.name.padEnd(width)}  ${Math.round(r.pairsPerSecond).toLocaleString('en-US').padStart(10)} pairs/s\n`,
    );
  }
}
