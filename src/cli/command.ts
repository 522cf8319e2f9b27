import { type ParseArgsConfig, parseArgs } from 'node:util';
import { inputError } from '../errors.js';

/** Where a command writes: injectable so tests can run commands in-process. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** True when stderr is a terminal (progress bars) */
  isTTY: boolean;
  env: Record<string, string | undefined>;
  cwd: string;
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & {
  description: string;
  valueName?: string;
};

export interface Command {
  name: string;
  summary: string;
  /** Usage line after `cxr NAME`, e.g. `IMAGE... [--json]` */
  usage: string;
  options: Record<string, OptionSpec>;
  /** Extra paragraphs printed by --help. */
  details?: string;
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

export function parseCommandArgs(command: Command, argv: string[]): ParsedArgs {
  const options: ParseArgsConfig['options'] = {};
  for (const [name, spec] of Object.entries(command.options)) {
    const { description: _d, valueName: _v, ...rest } = spec;
    options[name] = rest;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    throw inputError('cli.bad_args', `cxr ${command.name}: ${(e as Error).message}`, { field: 'arguments' });
  }
  refuseRepeatedValues(command, parsed.tokens ?? []);
  return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
}

/**
 * A value option given twice (`--model a --model b`) would silently keep the last one, so the user's first
 * choice vanishes: refuse it unless the option collects several values.
 */
function refuseRepeatedValues(command: Command, tokens: NonNullable<ReturnType<typeof parseArgs>['tokens']>) {
  const seen = new Map<string, string>();
  for (const t of tokens) {
    if (t.kind !== 'option' || t.value === undefined || command.options[t.name]?.multiple) continue;
    const first = seen.get(t.name);
    if (first !== undefined)
      throw inputError('cli.repeated_option', 'given twice; give it once', {
        field: `--${t.name}`,
        found: `${first} and ${t.value}`,
      });
    seen.set(t.name, t.value);
  }
}

/** Plain decimal notation only: Number() would also take '', ' ', '0x10', '1e3' and 'Infinity'. */
const DECIMAL_INTEGER = /^[+-]?\d+$/;
const DECIMAL_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function formatHelp(command: Command): string {
  const lines = [`cxr ${command.name} ${command.usage}`.trimEnd(), '', command.summary, ''];
  const entries = Object.entries(command.options);
  if (entries.length > 0) {
    lines.push('Options:');
    const heads = entries.map(([name, spec]) => {
      const short = spec.short ? `-${spec.short}, ` : '    ';
      const value = spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : '';
      return `  ${short}--${name}${value}`;
    });
    const width = Math.max(...heads.map((h) => h.length)) + 2;
    entries.forEach(([, spec], i) => {
      const def = spec.default !== undefined ? ` (default: ${String(spec.default)})` : '';
      lines.push(`${heads[i]!.padEnd(width)}${spec.description}${def}`);
    });
  }
  if (command.details) lines.push('', command.details.trim());
  return `${lines.join('\n')}\n`;
}

/** Read a string option, or undefined. */
export function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

export function strList(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  if (Array.isArray(v)) return v.map(String);
  return typeof v === 'string' ? [v] : [];
}

/** A finite number; with `min`, also at least that. */
export function num(args: ParsedArgs, name: string, fallback: number, min?: number): number {
  const v = str(args, name);
  const n = v === undefined ? fallback : DECIMAL_NUMBER.test(v.trim()) ? Number(v) : Number.NaN;
  if (!Number.isFinite(n) || (min !== undefined && n < min)) {
    const why = min === undefined ? 'not a number' : `must be a number >= ${min}`;
    throw inputError('cli.bad_option', why, { field: `--${name}`, found: v });
  }
  return n;
}

/** An integer; with `min`, also at least that. */
export function int(args: ParsedArgs, name: string, fallback: number, min?: number): number {
  const v = str(args, name);
  if (v === undefined) return fallback;
  const n = DECIMAL_INTEGER.test(v.trim()) ? Number(v) : Number.NaN;
  if (!Number.isInteger(n))
    throw inputError('cli.bad_option', 'not an integer', { field: `--${name}`, found: v });
  if (min !== undefined && n < min)
    throw inputError('cli.bad_option', `must be >= ${min}`, { field: `--${name}`, found: v });
  return n;
}
