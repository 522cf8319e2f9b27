/** CheXprompt end to end: judge every pair, aggregate, and sign the numbers so they can be reproduced. */
import type { MetricValue, Pairs } from '../index.js';
import { type BootstrapOptions, bootstrapSignature } from '../stats/index.js';
import { aggregate, type ChexpromptAggregate, HEADLINE_METRICS } from './aggregate.js';
import type { CountRow } from './counts.js';
import {
  DEFAULT_PARSE_RETRIES,
  type JudgedPair,
  type ReportResult,
  type RunOptions,
  type RunUsage,
  runChexprompt,
} from './run.js';

/** Bump when the prompt's meaning, the parser's rules or the aggregation change. */
export const CHEXPROMPT_VERSION = '1';

export interface ChexpromptOptions extends RunOptions {
  bootstrap?: BootstrapOptions;
}

export interface ChexpromptReport {
  signature: string;
  aggregate: ChexpromptAggregate;
  results: ReportResult[];
  usage: RunUsage;
  promptHash: string;
}

export function chexpromptSignature(o: ChexpromptOptions, hash: string): string {
  const p = o.judge.params;
  return [
    `chexprompt:${CHEXPROMPT_VERSION}`,
    `judge:${o.judgeId}`,
    `model:${o.judge.model}`,
    `prompt:${hash}`,
    `format:${o.format}`,
    `temp:${p.temperature}`,
    `max_tokens:${p.maxTokens}`,
    ...(p.seed === undefined ? [] : [`seed:${p.seed}`]),
    `parse_retries:${o.parseRetries ?? DEFAULT_PARSE_RETRIES}`,
    o.bootstrap?.resamples === 0 ? 'bs:off' : bootstrapSignature(o.bootstrap),
  ].join('|');
}

export async function chexprompt(pairs: JudgedPair[], options: ChexpromptOptions): Promise<ChexpromptReport> {
  const run = await runChexprompt(pairs, options);
  const scored: CountRow[] = [];
  let failed = 0;
  for (const r of run.results) {
    if (r.status === 'ok') scored.push(r.row);
    else failed++;
  }
  return {
    signature: chexpromptSignature(options, run.promptHash),
    aggregate: aggregate(scored, failed, options.bootstrap),
    results: run.results,
    usage: run.usage,
    promptHash: run.promptHash,
  };
}

/** The joined pairs of `readPairs` as the judge's input: the prediction is the candidate. */
export function judgedPairs(pairs: Pairs): JudgedPair[] {
  return pairs.ids.map((id, i) => ({
    id,
    candidate: pairs.predictions[i]!,
    reference: pairs.references[i]!,
  }));
}

/** Display scale of the aggregates: means and shares are plain numbers. */
const CHEXPROMPT_SCALE = 1;

/** The headline aggregates as metric values beside the model-free metrics of `cxr eval`. */
export function chexpromptMetricValues(report: ChexpromptReport): MetricValue[] {
  const { failed, scored } = report.aggregate;
  return HEADLINE_METRICS.flatMap((name) => {
    const e = report.aggregate.metrics[name];
    if (!e) return [];
    const metricName = `chexprompt_${name}`;
    return [
      {
        name: metricName,
        value: e.value,
        low: e.low,
        high: e.high,
        point: e.point,
        convention: e.resamples === 0 ? 'none' : e.convention,
        scale: CHEXPROMPT_SCALE,
        signature: `${metricName}|${report.signature}|scored:${scored}|failed:${failed}`,
        details: {
          name: metricName,
          version: CHEXPROMPT_VERSION,
          compat: 'chexprompt',
          tokenizer: 'none',
          case: 'mixed',
          smoothing: 'none',
          options: { signature: report.signature, scored, failed },
        },
      },
    ];
  });
}
