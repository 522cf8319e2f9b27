/**
 * Paired comparison of systems on the same references: every metric for every system (with its bootstrap
 * interval), and for each pair of systems the difference, its paired-bootstrap interval and an
 * approximate-randomisation p-value.
 */

import { bootstrapFor, type EvalResult, evaluate, type MetricValue } from './evaluate.js';
import { type BootstrapOptions, comparePaired, type PairedDifference } from './stats/index.js';

export interface SystemResult {
  name: string;
  result: EvalResult;
}

export interface Comparison extends PairedDifference {
  metric: string;
  a: string;
  b: string;
  scale: number;
}

export interface CompareOptions {
  metrics: string[];
  bootstrap?: BootstrapOptions;
  trials?: number;
  onProgress?: (message: string) => void;
}

export function compareSystems(
  references: readonly string[],
  systems: readonly { name: string; predictions: readonly string[] }[],
  o: CompareOptions,
): { systems: SystemResult[]; comparisons: Comparison[] } {
  const results = systems.map((s) => {
    o.onProgress?.(`scoring ${s.name}`);
    return { name: s.name, result: evaluate(s.predictions, references, o) };
  });
  const comparisons: Comparison[] = [];
  for (let i = 0; i < results.length; i++) {
    for (let j = i + 1; j < results.length; j++) {
      const [a, b] = [results[i]!, results[j]!];
      o.onProgress?.(`paired tests ${a.name} vs ${b.name}`);
      a.result.scores.forEach((sa, k) => {
        const sb = b.result.scores[k]!;
        const paired = comparePaired(sa.stats, sb.stats, {
          ...bootstrapFor(sa, o.bootstrap),
          trials: o.trials,
        });
        comparisons.push({ metric: sa.name, a: a.name, b: b.name, scale: sa.scale, ...paired });
      });
    }
  }
  return { systems: results, comparisons };
}

export type { MetricValue };
