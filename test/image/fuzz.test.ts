/**
 * Seeded, bounded fuzzing: corrupt real and generated image files at random offsets and check that every
 * outcome is either a decoded raster or a CxrError of kind 'input' naming the file: no crash, no hang,
 * no internal error.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeDicom, SYNTAX, testPattern } from '../../bench/support/make-dicom.js';
import { isCxrError } from '../../src/errors.js';
import { Mt19937 } from '../../src/eval/stats/index.js';
import { loadImage } from '../../src/image/index.js';
import { DATA, FIXTURES } from '../helpers.js';

const SEED = 20_240_601;
const CASES_PER_FILE = 24;
/** Any single load must finish within this (the clean files take well under 100 ms). */
const MAX_MS_PER_CASE = 5000;

/** Seeded uniform [0, 1) draws (the project's MT19937), so a failing case reproduces. */
function rng(seed: number): () => number {
  const mt = new Mt19937(seed);
  return () => mt.nextUint32() / 2 ** 32;
}

/** One corruption: flip a few bytes, overwrite a run, or truncate. Offsets favour the header half the time. */
function corrupt(src: Uint8Array, rand: () => number): { bytes: Uint8Array; what: string } {
  const bytes = Uint8Array.from(src);
  const kind = Math.floor(rand() * 3);
  const at = () => Math.floor((rand() < 0.5 ? Math.min(src.length, 2048) : src.length) * rand());
  if (kind === 2) {
    const n = at();
    return { bytes: bytes.subarray(0, n), what: `truncate at ${n}` };
  }
  const hits = kind === 0 ? 1 + Math.floor(rand() * 8) : 1;
  const offsets: number[] = [];
  for (let h = 0; h < hits; h++) {
    const o = at();
    const run = kind === 0 ? 1 : 1 + Math.floor(rand() * 64);
    for (let i = o; i < Math.min(bytes.length, o + run); i++) bytes[i] = Math.floor(rand() * 256);
    offsets.push(o);
  }
  return { bytes, what: `${kind === 0 ? 'flip' : 'overwrite run'} at ${offsets.join(',')}` };
}

async function sources(): Promise<Array<[string, Uint8Array]>> {
  const pre = join(FIXTURES, 'preprocess', 'inputs');
  const img = join(DATA, 'images');
  const list: Array<[string, Uint8Array]> = [
    ['00000001_000.png', readFileSync(join(pre, '00000001_000.png'))],
    ['16747_3_1.jpg', readFileSync(join(pre, '16747_3_1.jpg'))],
    ['siim.dcm', readFileSync(join(img, '1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm'))],
  ];
  const spec = { width: 48, height: 40, values: testPattern(48, 40), bitsStored: 12 };
  for (const name of [
    'explicitBE',
    'deflated',
    'rle',
    'jpegLosslessSV1',
    'jpegLs',
    'j2kLossless',
    'htj2kLossless',
  ] as const)
    list.push([`${name}.dcm`, await makeDicom(spec, SYNTAX[name])]);
  return list;
}

describe('fuzz: corrupted files give input errors, never a crash or a hang', () => {
  it(`${CASES_PER_FILE} seeded corruptions of each fixture`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cxr-fuzz-'));
    const rand = rng(SEED);
    const outcomes = { decoded: 0, refused: 0 };
    const codes = new Map<string, number>();
    for (const [name, src] of await sources()) {
      for (let i = 0; i < CASES_PER_FILE; i++) {
        const { bytes, what } = corrupt(src, rand);
        const file = join(dir, `${i}-${name}`);
        writeFileSync(file, bytes);
        const t0 = performance.now();
        try {
          const img = await loadImage(file, { allowLateral: true, allowNonChest: true });
          expect(img.raster.data.length).toBe(img.raster.width * img.raster.height * img.raster.channels);
          outcomes.decoded++;
        } catch (e) {
          if (!isCxrError(e) || e.kind !== 'input' || !e.message.includes(file))
            throw new Error(`${name} (${what}): not a clean input error: ${String(e)}`);
          codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
          outcomes.refused++;
        }
        const ms = performance.now() - t0;
        if (ms > MAX_MS_PER_CASE) throw new Error(`${name} (${what}) took ${ms.toFixed(0)} ms`);
      }
    }
    // Both outcomes occur, and the clean files still decode after all that (codec state not poisoned).
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(outcomes.decoded).toBeGreaterThan(0);
    for (const [name, src] of await sources()) {
      const file = join(dir, `clean-${name}`);
      writeFileSync(file, src);
      await expect(loadImage(file)).resolves.toBeTruthy();
    }
    expect(codes.size).toBeGreaterThanOrEqual(3);
  });
});

describe('concurrent loads', () => {
  it('a corrupt compressed DICOM failing mid-batch does not break the others (codec reset is safe)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cxr-conc-'));
    const spec = { width: 48, height: 40, values: testPattern(48, 40), bitsStored: 12 };
    const good = await makeDicom(spec, SYNTAX.j2kLossless);
    const bad = Uint8Array.from(good);
    // Scramble the end of the codestream, keeping the sequence delimiter (last 8 bytes) intact.
    for (let i = bad.length - 300; i < bad.length - 8; i++) bad[i] = (i * 37) & 0xff;
    const files = Array.from({ length: 12 }, (_, i) => {
      const f = join(dir, `${i}.dcm`);
      writeFileSync(f, i % 3 === 1 ? bad : good);
      return f;
    });
    const results = await Promise.allSettled(files.map((f) => loadImage(f)));
    results.forEach((r, i) => {
      if (i % 3 === 1) {
        expect(r.status).toBe('rejected');
        expect((r as PromiseRejectedResult).reason.code).toBe('dicom.corrupt');
      } else expect(r.status).toBe('fulfilled');
    });
  });
});
