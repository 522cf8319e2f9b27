/**
 * Score a joined set of pairs with the selected metrics and bootstrap every number. Each metric resamples as its
 * reference implementation does (generator and seed); metrics that share both see the same resampled report
 * sets. Nothing here prints: progress goes through a callback.
 */
import type { LabelRecord } from './labels/index.js';
import { METRICS } from './metrics.js';
import {
  type BootstrapOptions,
  bootstrapMany,
  bootstrapSignature,
  type Estimate,
  type ReportConvention,
  resolveBootstrap,
  summarise,
} from './stats/index.js';
import { type CorpusScore, formatSignature, type MetricSignature } from './text/index.js';

export interface MetricValue {
  name: string;
  /** the reported value under the metric's convention (SPEC.md §5) */
  value: number;
  /** 95% interval (NaN when the bootstrap is off) */
  low: number;
  high: number;
  /** value over all reports */
  point: number;
  convention: ReportConvention | 'none';
  scale: number;
  signature: string;
  details: MetricSignature;
}

export interface EvalOptions {
  metrics: string[];
  /** resamples 0 turns the bootstrap off */
  bootstrap?: BootstrapOptions;
  onProgress?: (message: string) => void;
}

export interface EvalResult {
  n: number;
  metrics: MetricValue[];
  /** per-pair values by metric name (metrics without one are absent) */
  perPair: Record<string, Float64Array>;
  labels?: { predictions: LabelRecord[]; references: LabelRecord[] };
  scores: CorpusScore[];
}

export function scoreAll(
  predictions: readonly string[],
  references: readonly string[],
  metrics: readonly string[],
  onProgress?: (message: string) => void,
): { scores: CorpusScore[]; labels?: EvalResult['labels'] } {
  const scores: CorpusScore[] = [];
  let labels: EvalResult['labels'];
  for (const name of metrics) {
    const started = Date.now();
    const run = METRICS[name]!.run(predictions, references);
    scores.push(...run.scores);
    labels ??= run.labels;
    onProgress?.(`${name}: ${predictions.length} pairs in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return { scores, labels };
}

/**
 * Bootstrap settings for one score: the user's resamples / confidence, the generator of the reference
 * implementation (sacrebleu's PCG64 for BLEU, numpy's legacy MT19937 otherwise) and its seed unless overridden.
 */
export function bootstrapFor(score: CorpusScore, user: BootstrapOptions = {}): BootstrapOptions {
  return {
    ...user,
    generator: user.generator ?? score.resampling.generator,
    seed: user.seed ?? score.resampling.seed,
  };
}

/** Estimates of every score; scores sharing generator and seed share their resamples (one pass each). */
export function estimates(
  scores: readonly CorpusScore[],
  bootstrap: BootstrapOptions = {},
): Estimate[] | null {
  if (bootstrap.resamples === 0) return null;
  const groups = new Map<string, number[]>();
  scores.forEach((s, i) => {
    const o = bootstrapFor(s, bootstrap);
    const key = `${o.generator}:${o.seed}`;
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  const out: Estimate[] = new Array(scores.length);
  for (const members of groups.values()) {
    const options = bootstrapFor(scores[members[0]!]!, bootstrap);
    const distributions = bootstrapMany(
      members.map((i) => scores[i]!.stats),
      options,
    );
    members.forEach((i, k) => {
      out[i] = summarise(scores[i]!.value, distributions[k]!, scores[i]!.convention, options);
    });
  }
  return out;
}

/** Reported values, intervals and signatures of scores and their estimates (null: bootstrap off). */
export function toMetricValues(
  scores: readonly CorpusScore[],
  est: readonly Estimate[] | null,
  bootstrap: BootstrapOptions = {},
): MetricValue[] {
  return scores.map((s, i): MetricValue => {
    const e = est?.[i];
    const bsSig = e ? bootstrapSignature(bootstrapFor(s, bootstrap)) : 'bs:off';
    return {
      name: s.name,
      value: e ? e.value : s.value,
      low: e ? e.low : Number.NaN,
      high: e ? e.high : Number.NaN,
      point: s.value,
      convention: e ? s.convention : 'none',
      scale: s.scale,
      signature: formatSignature(s.signature, `${bsSig}|report:${e ? s.convention : 'point'}`),
      details: s.signature,
    };
  });
}

export function evaluate(
  predictions: readonly string[],
  references: readonly string[],
  o: EvalOptions,
): EvalResult {
  const { scores, labels } = scoreAll(predictions, references, o.metrics, o.onProgress);
  const started = Date.now();
  const est = estimates(scores, o.bootstrap);
  if (est) {
    const { resamples } = resolveBootstrap(o.bootstrap);
    o.onProgress?.(`bootstrap: ${resamples} resamples in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const metrics = toMetricValues(scores, est, o.bootstrap);
  const perPair: Record<string, Float64Array> = {};
  for (const s of scores) if (s.perPair) perPair[s.name] = s.perPair;
  return { n: predictions.length, metrics, perPair, labels, scores };
}
