/**
 * `npm run bench -- labels [--rounds N] [--json]`: throughput of the rule-based CheXpert labeler on the IU X-ray
 * dev findings (one core, reports per second), after a warm-up round.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { labelReports } from '../src/eval/labels/index.js';
import { DATA } from './support/paths.js';

const REPORTS = join(DATA, 'iu-xray', 'reports.dev.jsonl');

export async function main(argv: string[]): Promise<void> {
  const at = argv.indexOf('--rounds');
  const rounds = at >= 0 ? Number(argv[at + 1]) : 5;
  const texts = readFileSync(REPORTS, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { findings: string | null }).findings)
    .filter((t): t is string => t !== null);
  labelReports(texts);
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    labelReports(texts);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  const result = {
    reports: texts.length,
    rounds,
    median_ms: median,
    reports_per_s: (texts.length / median) * 1000,
  };
  if (argv.includes('--json')) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    process.stdout.write(
      `labels: ${result.reports} reports, median of ${rounds} rounds ${median.toFixed(1)} ms -> ${result.reports_per_s.toFixed(0)} reports/s (one core)\n`,
    );
  }
}
