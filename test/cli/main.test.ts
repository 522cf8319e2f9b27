import { execFileSync, spawnSync } from 'node:child_process';
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
});
