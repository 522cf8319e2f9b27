/**
 * Reports source files over ~500 lines and functions over ~80 lines so growth is seen when it happens.
 * `npm run sizes` (add `--strict` to exit 1 when something is over).
 * Functions are found with the TypeScript parser, so methods, arrow functions and multi-line signatures count.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const FILE_LIMIT = 500;
const FUNCTION_LIMIT = 80;

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else if (path.endsWith('.ts')) yield path;
  }
}

function functionName(node: ts.Node): string {
  const named = node as { name?: ts.Node };
  if (named.name && ts.isIdentifier(named.name)) return named.name.text;
  if (ts.isVariableDeclaration(node.parent) && ts.isIdentifier(node.parent.name))
    return node.parent.name.text;
  if (ts.isPropertyAssignment(node.parent) && ts.isIdentifier(node.parent.name)) return node.parent.name.text;
  return '(anonymous)';
}

function longFunctions(file: string, text: string): { name: string; start: number; length: number }[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: { name: string; start: number; length: number }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line + 1;
      if (end - start + 1 > FUNCTION_LIMIT)
        found.push({ name: functionName(node), start, length: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

let over = 0;
for (const root of ['src', 'bench']) {
  for (const file of walk(root)) {
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n').length;
    if (lines > FILE_LIMIT) {
      over++;
      console.log(`${file}: ${lines} lines (limit ${FILE_LIMIT})`);
    }
    for (const f of longFunctions(file, text)) {
      over++;
      console.log(`${file}:${f.start}: function ${f.name} is ${f.length} lines (limit ${FUNCTION_LIMIT})`);
    }
  }
}
if (over === 0) console.log('sizes: every file and function is within limits');
if (process.argv.includes('--strict') && over > 0) process.exitCode = 1;
