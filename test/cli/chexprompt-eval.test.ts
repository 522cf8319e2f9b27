import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeChatServer, heuristicAnswer } from '../../bench/support/fake-judge-server.js';
import { cli } from '../helpers.js';

let dir: string;
let file: string;
let server: FakeChatServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cxr-eval-chexprompt-'));
  file = join(dir, 'pairs.jsonl');
  // One file with both texts, as LLaVA-Rad's evaluation writes it; the texts are ours.
  const rows = [
    { id: 'a', prediction: 'The lungs are clear.', reference: 'The lungs are clear.' },
    { id: 'b', prediction: 'Small right pleural effusion.', reference: 'The lungs are clear.' },
    { id: 'c', prediction: 'Heart size normal.', reference: 'Heart size normal. Mild spine degeneration.' },
    { id: 'd', prediction: 'No pneumothorax.', reference: 'No pneumothorax.' },
  ];
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n'));
  server = await new FakeChatServer({ answer: heuristicAnswer }).start();
});
afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('cxr eval --metrics ...,chexprompt', () => {
  it('adds the CheXprompt aggregates, with intervals and signatures, next to the other metrics', async () => {
    const r = await cli([
      'eval',
      '--pred',
      file,
      '--metrics',
      'bleu1,chexprompt',
      '--judge',
      `${server.url}#m`,
      '--no-cache',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    const byName = Object.fromEntries(doc.metrics.map((m: { name: string }) => [m.name, m]));
    expect(Object.keys(byName)).toEqual([
      'bleu1',
      'chexprompt_mean_significant',
      'chexprompt_mean_total',
      'chexprompt_share_no_significant',
      'chexprompt_share_no_error',
    ]);
    expect(byName.chexprompt_mean_significant.value).toBeCloseTo(0.25, 12); // the invented effusion
    // b: an invented effusion (A, significant) and the clear lungs left out (B); c: the spine left out (B).
    expect(byName.chexprompt_mean_total.value).toBeCloseTo(0.75, 12);
    expect(byName.chexprompt_share_no_error.value).toBeCloseTo(0.5, 12);
    expect(byName.chexprompt_mean_total.ci).toHaveLength(2);
    expect(byName.chexprompt_mean_total.signature).toMatch(
      /^chexprompt_mean_total\|chexprompt:1\|judge:http@.*\|scored:4\|failed:0$/,
    );
  });

  it('runs CheXprompt alone, and without intervals under --bootstrap 0', async () => {
    const r = await cli([
      'eval',
      '--pred',
      file,
      '--metrics',
      'chexprompt',
      '--judge',
      `${server.url}#m`,
      '--no-cache',
      '--bootstrap',
      '0',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.metrics.map((m: { name: string }) => m.name)).toEqual([
      'chexprompt_mean_significant',
      'chexprompt_mean_total',
      'chexprompt_share_no_significant',
      'chexprompt_share_no_error',
    ]);
    expect(doc.metrics[0].ci).toBeNull();
    expect(doc.metrics[0].signature).toContain('bs:off');
  });

  it('needs a judge only when chexprompt is asked for', async () => {
    const r = await cli(['eval', '--pred', file, '--metrics', 'chexprompt', '--no-cache']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--judge: a judge is needed/);
    expect((await cli(['eval', '--pred', file, '--metrics', 'bleu1', '--json'])).code).toBe(0);
  });
});
