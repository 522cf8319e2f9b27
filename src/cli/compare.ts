import { basename, resolve } from 'node:path';
import { inputError } from '../errors.js';
import {
  alignColumns,
  type Comparison,
  compareSystems,
  csvField,
  formatNumber,
  parseMetricList,
  readSystems,
  renderHtml,
} from '../eval/index.js';
import { DEFAULT_RANDOMISATION_TRIALS } from '../eval/stats/index.js';
import { type Command, flag, int, str, strList } from './command.js';
import {
  bootstrapOptions,
  inputOptions,
  outputMode,
  SHARED_EVAL_OPTIONS,
  stderrLogger,
  writeAtomic,
} from './eval.js';
import { packageVersion } from './version.js';

/** Unique display names for the systems: file names, with the path added where two collide. */
function systemNames(files: string[]): string[] {
  const names = files.map((f) => basename(f));
  return names.map((n, i) => (names.indexOf(n) !== names.lastIndexOf(n) ? files[i]! : n));
}

function formatP(p: number): string {
  return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}

function comparisonRows(cs: Comparison[]): string[][] {
  return cs.map((c) => [
    c.metric,
    `${c.a} - ${c.b}`,
    formatNumber(c.difference, c.scale),
    `[${formatNumber(c.low, c.scale)}, ${formatNumber(c.high, c.scale)}]`,
    formatP(c.pValue),
  ]);
}

const COMPARISON_HEADER = ['metric', 'systems', 'difference', '95% CI', 'p (AR)'];

export const compareCommand: Command = {
  name: 'compare',
  summary: 'Compare systems on the same references: paired bootstrap differences and randomisation p-values.',
  usage: '--ref FILE --pred A.jsonl --pred B.jsonl [...] [--metrics LIST] [--json|--csv] [--html FILE]',
  options: {
    ref: { type: 'string', valueName: 'FILE', description: 'references: JSONL {id, reference} or CSV' },
    pred: {
      type: 'string',
      multiple: true,
      valueName: 'FILE',
      description: 'predictions of one system (repeat)',
    },
    trials: {
      type: 'string',
      valueName: 'N',
      description: 'approximate-randomisation trials',
      default: String(DEFAULT_RANDOMISATION_TRIALS),
    },
    ...SHARED_EVAL_OPTIONS,
  },
  details: `
Every system is scored on the ids present in the references and in every prediction file. For each pair of
systems and each metric: the difference A - B over all pairs, a 95% paired-bootstrap interval (the same
resampled reports for both systems) and a two-sided approximate-randomisation p-value (outputs swapped per
report with probability 1/2; p = (extreme + 1) / (trials + 1)).`,
  async run(args, io) {
    const ref = str(args, 'ref');
    const preds = strList(args, 'pred');
    if (ref === undefined || preds.length < 2) {
      throw inputError('cli.missing_option', 'cxr compare needs --ref FILE and at least two --pred FILE', {
        field: ref === undefined ? '--ref' : '--pred',
        found: `${preds.length} --pred`,
      });
    }
    const trials = int(args, 'trials', DEFAULT_RANDOMISATION_TRIALS);
    if (trials < 1)
      throw inputError('cli.bad_option', 'must be >= 1', { field: '--trials', found: String(trials) });
    const metrics = parseMetricList(str(args, 'metrics'));
    const bootstrap = bootstrapOptions(args);
    const mode = outputMode(args);
    const log = stderrLogger(io, 'compare', flag(args, 'quiet'));
    const data = await readSystems({
      ref: resolve(io.cwd, ref),
      preds: preds.map((p) => resolve(io.cwd, p)),
      ...inputOptions(args),
      onProgress: log,
    });
    for (const w of data.warnings) log(`warning: ${w}`);
    const names = systemNames(preds);
    const { systems, comparisons } = compareSystems(
      data.references,
      data.systems.map((s, i) => ({ name: names[i]!, predictions: s.predictions })),
      { metrics, bootstrap, trials, onProgress: data.ids.length >= 10_000 ? log : undefined },
    );
    const html = str(args, 'html');
    if (html !== undefined) {
      const page = renderHtml({
        title: 'cxr compare',
        n: data.ids.length,
        systems: systems.map((s) => ({ name: s.name, metrics: s.result.metrics })),
        warnings: data.warnings,
        extraTable: {
          caption: 'Paired differences',
          header: COMPARISON_HEADER,
          rows: comparisonRows(comparisons),
        },
        generatedBy: `cxr ${packageVersion()}; references ${ref}; ${trials} randomisation trials.`,
      });
      await writeAtomic(resolve(io.cwd, html), [page]);
    }
    if (mode === 'json') {
      const doc = {
        n: data.ids.length,
        systems: systems.map((s) => ({
          name: s.name,
          metrics: s.result.metrics.map((m) => ({
            name: m.name,
            value: m.value,
            ci: Number.isFinite(m.low) ? [m.low, m.high] : null,
            signature: m.signature,
          })),
        })),
        comparisons: comparisons.map((c) => ({
          ...c,
          signature: signatureOf(systems[0]!.result.metrics, c.metric),
        })),
        warnings: data.warnings,
      };
      io.stdout(`${JSON.stringify(doc, null, 2)}\n`);
    } else if (mode === 'csv') {
      const lines = ['metric,a,b,difference,ci_low,ci_high,p_value,trials,n,signature'];
      for (const c of comparisons) {
        const sig = csvField(signatureOf(systems[0]!.result.metrics, c.metric));
        lines.push(
          [
            c.metric,
            csvField(c.a),
            csvField(c.b),
            c.difference,
            c.low,
            c.high,
            c.pValue,
            c.trials,
            data.ids.length,
            sig,
          ].join(','),
        );
      }
      io.stdout(`${lines.join('\n')}\n`);
    } else {
      const perSystem = systems.map(
        (s) =>
          `${s.name}: ${s.result.metrics.map((m) => `${m.name} ${formatNumber(m.value, m.scale)}`).join(', ')}`,
      );
      const sigs = systems[0]!.result.metrics.map((m) => `  ${m.name}: ${m.signature}`);
      io.stdout(
        `${data.ids.length} pairs, ${systems.length} systems\n\n${perSystem.join('\n')}\n\n${alignColumns([COMPARISON_HEADER, ...comparisonRows(comparisons)], 2)}\n\nSignatures (paired tests: ${trials} randomisation trials):\n${sigs.join('\n')}\n`,
      );
    }
    return 0;
  },
};

function signatureOf(metrics: { name: string; signature: string }[], name: string): string {
  return metrics.find((m) => m.name === name)?.signature ?? '';
}
