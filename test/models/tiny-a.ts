/** The tiny-a oracle checkpoint (../shared/fixtures/oracle/tiny-a) and its goldens, for graph and session tests. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createSessions, type GraphOptions, type LlavaSessions } from '../../src/llava/index.js';
import { readNpy } from '../../src/util/npy.js';
import { type LlavaRadWeights, openLlavaRad } from '../../src/weights/index.js';
import { FIXTURES } from '../helpers.js';

export const TINY_A = join(FIXTURES, 'oracle', 'tiny-a');

export interface GoldenCase {
  image: string;
  prompt_id: string;
  input_ids_file: string;
  pixel_values_file: string;
  logits_steps_file: string;
  generated_ids_file: string;
}

export const manifest = JSON.parse(readFileSync(join(TINY_A, 'manifest.json'), 'utf8')) as {
  cases: GoldenCase[];
  images: Record<string, unknown>;
};

export const openTinyA = () =>
  openLlavaRad({ llavaDir: join(TINY_A, 'llava-rad'), baseDir: join(TINY_A, 'vicuna-7b-v1.5') });

export const floats = (file: string) => readNpy(join(TINY_A, file)).data as Float32Array;
export const ids = (file: string) => Array.from(readNpy(join(TINY_A, file)).data as BigInt64Array, Number);
export const imageStem = (image: string) => image.replace(/\.(png|jpg)$/, '');

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function argmax(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[best]!) best = i;
  return best;
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

/**
 * fp32 sessions on tiny-a (one thread), opened before a test file's tests and closed after them.
 * Returns a getter: the sessions exist only once beforeAll has run.
 */
export function useTinyASessions(opts: GraphOptions = {}): () => LlavaSessions {
  let weights: LlavaRadWeights | undefined;
  let sessions: LlavaSessions | undefined;
  beforeAll(async () => {
    weights = await openTinyA();
    sessions = await createSessions(weights, { threads: 1, ...opts });
  });
  afterAll(async () => {
    await sessions?.vision.dispose();
    await sessions?.lm.dispose();
    await weights?.close();
  });
  return () => sessions!;
}
