/**
 * `npm run bench -- NAME [options]`: benchmarks, never part of `npm test`.
 * Each bench file exports `main(argv)`; results are printed as a table, `--json` for machines.
 */
const BENCHES: Record<string, () => Promise<{ main: (argv: string[]) => Promise<void> }>> = {
  chexbert: () => import('./chexbert.js'),
  chexprompt: () => import('./chexprompt.js'),
  decoder: () => import('./decoder.js'),
  eval: () => import('./eval.js'),
  findings: () => import('./findings.js'),
  image: () => import('./image.js'),
  'kv-keys': () => import('./kv-keys.js'),
  labels: () => import('./labels.js'),
  quant: () => import('./quant.js'),
  llava: () => import('./llava.js'),
  weights: () => import('./weights.js'),
};

async function run(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const load = name ? BENCHES[name] : undefined;
  if (!load) {
    process.stderr.write(`usage: npm run bench -- <${Object.keys(BENCHES).join('|') || 'name'}> [options]\n`);
    process.exitCode = 2;
    return;
  }
  await (await load()).main(rest);
}

await run();
