/**
 * `npm run bench -- findings [--model BUNDLE] [--image PATH] [--reps N] [--max-new-tokens N] [--json]`: time per
 * stage of `cxr findings` for one image (preprocess, vision, prefill, decode), median over N runs after one
 * warm-up, with the model loaded once. Without --model it imports the tiny-a oracle (fp32) into a temporary folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { importBundle, openBundleModel, runFindings, type StageTimings } from '../src/llava/index.js';
import { FIXTURES } from './support/paths.js';

const TINY_A = join(FIXTURES, 'oracle', 'tiny-a');
const DEFAULT_IMAGE = join(FIXTURES, 'preprocess', 'inputs', 'CXR7_IM-2263-1001.png');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      image: { type: 'string', default: DEFAULT_IMAGE },
      reps: { type: 'string', default: '5' },
      'max-new-tokens': { type: 'string', default: '24' },
      threads: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const tmp = values.model ? null : mkdtempSync(join(tmpdir(), 'cxr-bench-'));
  try {
    const bundle = values.model ?? join(tmp!, 'tiny-a');
    if (tmp)
      await importBundle({
        llavaDir: join(TINY_A, 'llava-rad'),
        baseDir: join(TINY_A, 'vicuna-7b-v1.5'),
        out: bundle,
      });
    const loadStart = performance.now();
    const model = await openBundleModel(bundle, {
      threads: values.threads ? Number(values.threads) : undefined,
    });
    const loadMs = performance.now() - loadStart;
    const generation = { maxNewTokens: Number(values['max-new-tokens']) };
    const runs: { timings: StageTimings; tokens: number }[] = [];
    try {
      for (let i = 0; i <= Number(values.reps); i++) {
        const r = await runFindings(model, { image: values.image! }, { generation });
        if (i > 0) runs.push({ timings: r.timings, tokens: r.token_ids.length }); // run 0 warms up
      }
    } finally {
      await model.dispose();
    }
    const stages = Object.keys(runs[0]!.timings) as (keyof StageTimings)[];
    const row = Object.fromEntries(stages.map((s) => [s, median(runs.map((r) => r.timings[s]))]));
    const result = {
      model: bundle,
      image: values.image,
      reps: runs.length,
      load_ms: Math.round(loadMs),
      tokens: runs[0]!.tokens,
      ...row,
    };
    if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else for (const [k, v] of Object.entries(result)) process.stdout.write(`${k.padEnd(20)} ${v}\n`);
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}
