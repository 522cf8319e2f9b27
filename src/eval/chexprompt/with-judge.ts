/** CheXprompt with the judge a spec names: built behind the scheduler's limits and the answer cache, then closed. */
import {
  AnswerCache,
  createJudge,
  type JudgeSettings,
  type JudgeSpec,
  judgeIdentity,
  LimitedJudge,
  type LimitOptions,
} from '../../judge/index.js';
import { type ChexpromptOptions, type ChexpromptReport, chexprompt } from './metric.js';
import type { AnswerFormat } from './prompt.js';
import type { JudgedPair } from './run.js';

/** Pairs in progress per scheduler slot: one waiting on the judge while the next is prepared. */
const WORKERS_PER_SLOT = 2;
const MS_PER_SECOND = 1000;

export interface SpecRunOptions
  extends Omit<ChexpromptOptions, 'judge' | 'judgeId' | 'format' | 'cache' | 'workers'> {
  spec: JudgeSpec;
  settings: JudgeSettings;
  limits: LimitOptions;
  /** Undefined: the judge's choice (JSON where it enforces a schema, the list form otherwise). */
  format?: AnswerFormat;
  /** SQLite answer cache; undefined runs without one. */
  cachePath?: string;
  /** Told the answer format once the judge is built, before the first pair. */
  onStart?: (format: AnswerFormat) => void;
}

export interface SpecRun {
  report: ChexpromptReport;
  seconds: number;
  /** The judge behind its limits, closed; its `stats` count requests and retries. */
  judge: LimitedJudge;
}

export async function chexpromptWithJudge(pairs: JudgedPair[], o: SpecRunOptions): Promise<SpecRun> {
  const { spec, settings, limits, cachePath, onStart, ...options } = o;
  const judge = new LimitedJudge(await createJudge(spec, settings), limits);
  const format = o.format ?? (judge.structured ? 'json' : 'list');
  const started = Date.now();
  let cache: AnswerCache | undefined;
  try {
    cache = cachePath === undefined ? undefined : AnswerCache.open(cachePath);
    onStart?.(format);
    const report = await chexprompt(pairs, {
      ...options,
      judge,
      judgeId: judgeIdentity(spec, settings),
      format,
      cache,
      workers: limits.concurrency * WORKERS_PER_SLOT,
    });
    return { report, seconds: (Date.now() - started) / MS_PER_SECOND, judge };
  } finally {
    await judge.close();
    cache?.close();
  }
}
