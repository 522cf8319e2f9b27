import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.js';
import { cli, REPO_ROOT } from '../helpers.js';

describe('cxr CLI', () => {
  it('lists every command in --help', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(r.stdout).toContain(name);
  });

  it('exits 2 with a message on an unknown command', async () => {
    const r = await cli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });

  it('prints --help for every command', async () => {
    for (const name of Object.keys(COMMANDS)) {
      const r = await cli([name, '--help']);
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toContain(`cxr ${name}`);
    }
  });

  it('exits 2 on an unknown option', async () => {
    const r = await cli(['version', '--no-such-option']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--no-such-option');
  });

  it('runs as a real executable through tsx', () => {
    const tsx = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
    const out = execFileSync(tsx, [join(REPO_ROOT, 'src/cli/bin.ts'), 'version'], { encoding: 'utf8' });
    expect(out).toMatch(/^cxr \d+\.\d+\.\d+/);
    const bad = spawnSync(tsx, [join(REPO_ROOT, 'src/cli/bin.ts'), 'nope'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
  });

  it('stops quietly when the reader of its output goes away (| head -1), exit 0, no EPIPE crash', () => {
    // More output than a pipe buffer holds, so writes after `head` exits must hit a closed pipe.
    const reports = join(mkdtempSync(join(tmpdir(), 'cxr-epipe-')), 'reports.jsonl');
    const line = (i: number) =>
      JSON.stringify({ id: `r${i}`, text: 'No pleural effusion. Heart size is normal.' });
    writeFileSync(reports, `${Array.from({ length: 2000 }, (_, i) => line(i)).join('\n')}\n`);
    const tsx = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
    const script = `"${tsx}" "${join(REPO_ROOT, 'src/cli/bin.ts')}" label "${reports}" | head -1; exit \${PIPESTATUS[0]}`;
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    expect(r.stderr).not.toContain('EPIPE');
    expect(r.stdout).toContain('"id":"r0"');
    expect(r.status).toBe(0);
  });

  it('refuses a value option given twice instead of silently keeping the last (exit 2, names both)', async () => {
    const ex = join(REPO_ROOT, 'examples');
    const args = ['eval', '--pred', join(ex, 'predictions.jsonl'), '--ref', join(ex, 'references.jsonl')];
    const r = await cli([...args, '--bootstrap', '10', '--bootstrap', '20', '--metrics', 'bleu4']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--bootstrap: given twice');
    expect(r.stderr).toContain('10 and 20');
    const pred = await cli([...args, '--pred', 'other.jsonl']);
    expect(pred.code).toBe(2);
    expect(pred.stderr).toContain('--pred: given twice');
    // Options that collect values still take repeats.
    const refs = join(ex, 'references.jsonl');
    const cmp = await cli([
      'compare',
      '--ref',
      refs,
      '--pred',
      args[2]!,
      '--pred',
      args[2]!,
      '--metrics',
      'bleu4',
    ]);
    expect(cmp.stderr).not.toContain('given twice');
  });

  it('takes numbers in plain decimal only: empty, hex, exponent and Infinity are refused (exit 2)', async () => {
    const ex = join(REPO_ROOT, 'examples');
    const args = ['eval', '--pred', join(ex, 'predictions.jsonl'), '--ref', join(ex, 'references.jsonl')];
    for (const bad of ['', ' ', '0x10', '1e2', 'Infinity', '5abc']) {
      const r = await cli([...args, `--bootstrap=${bad}`, '--metrics', 'bleu4']);
      expect(r.code, bad).toBe(2);
      expect(r.stderr, bad).toContain('--bootstrap: not an integer');
    }
    for (const bad of ['', '0x1', 'NaN', '-Infinity']) {
      const r = await cli(['chexprompt', ...args.slice(1), '--judge', 'ollama:x', `--temperature=${bad}`]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr, bad).toContain('--temperature');
    }
  });
});
