/**
 * Reports source files over ~500 lines and functions over ~80 lines so growth is seen when it happens.
 * `npm run sizes` (add `--strict` to exit 1 when something is over).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const FILE_LIMIT = 500;
const FUNCTION_LIMIT = 80;

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else if (path.endsWith('.ts')) yield path;
  }
}

/** Rough function lengths: a line opening a function or method to the brace that closes it. */
function longFunctions(lines: string[]): { name: string; start: number; length: number }[] {
  const found: { name: string; start: number; length: number }[] = [];
  const opener =
    /^(\s*)(?:export\s+)?(?:async\s+)?(?:function\*?\s+(\w+)|(?:const|let)\s+(\w+)\s*=.*=>\s*\{$|(\w+)\s*\([^)]*\)\s*(?::[^{]+)?\{$)/;
  lines.forEach((line, i) => {
    const m = opener.exec(line);
    if (!m) return;
    const indent = m[1]!;
    const end = lines.findIndex((l, j) => j > i && l.startsWith(`${indent}}`));
    const length = end < 0 ? 0 : end - i + 1;
    if (length > FUNCTION_LIMIT) found.push({ name: m[2] ?? m[3] ?? m[4] ?? '?', start: i + 1, length });
  });
  return found;
}

let over = 0;
for (const root of ['src', 'bench']) {
  for (const file of walk(root)) {
    const lines = readFileSync(file, 'utf8').split('\n');
    if (lines.length > FILE_LIMIT) {
      over++;
      console.log(`${file}: ${lines.length} lines (limit ${FILE_LIMIT})`);
    }
    for (const f of longFunctions(lines)) {
      over++;
      console.log(`${file}:${f.start}: function ${f.name} is ${f.length} lines (limit ${FUNCTION_LIMIT})`);
    }
  }
}
if (over === 0) console.log('sizes: every file and function is within limits');
if (process.argv.includes('--strict') && over > 0) process.exitCode = 1;
