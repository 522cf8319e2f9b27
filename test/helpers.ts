import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliIO } from '../src/cli/command.js';
import { runCli } from '../src/cli/main.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** ../shared beside the checkout: golden fixtures and real data (never copied into the repo). */
export const SHARED = resolve(REPO_ROOT, '..', 'shared');
export const FIXTURES = join(SHARED, 'fixtures');
export const DATA = join(SHARED, 'data');

if (!existsSync(SHARED)) {
  throw new Error(`tests need ../shared beside the repository (looked for ${SHARED})`);
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `cxr ARGS...` in-process and capture its output. */
export async function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    isTTY: false,
    env: { ...process.env, ...env },
    cwd: process.cwd(),
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}
