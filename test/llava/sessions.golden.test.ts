/**
 * Golden numerics of the ONNX sessions on the tiny-a oracle: vision rows within 1e-4, logits of the listed steps
 * within 1e-3 and every greedy token, teacher-forced through the KV-cache path, for every case in the manifest.
 */
import { describe, expect, it } from 'vitest';
import { argmax, floats, ids, imageStem, manifest, maxAbsDiff, useTinyASessions } from '../models/tiny-a.js';

const VISION_TOL = 1e-4;
const LOGITS_TOL = 1e-3;

const sessions = useTinyASessions();

describe('tiny-a golden, fp32', () => {
  const images = [...new Set(manifest.cases.map((c) => imageStem(c.image)))];

  it.each(images)('projected image rows of %s within 1e-4', async (stem) => {
    const rows = await sessions().vision.encode(floats(`golden/pixels/${stem}.pixel_values.npy`));
    expect(rows.length).toBe(sessions().vision.tokens * sessions().vision.hidden);
    expect(maxAbsDiff(rows, floats(`golden/vision/${stem}.projected.npy`))).toBeLessThan(VISION_TOL);
  });

  it.each(manifest.cases.map((c) => [`${imageStem(c.image)} ${c.prompt_id}`, c] as const))(
    'case %s: step logits within 1e-3 and every greedy id',
    async (_, c) => {
      const rows = await sessions().vision.encode(floats(c.pixel_values_file));
      const golden = floats(c.logits_steps_file);
      const generated = ids(c.generated_ids_file);
      const V = sessions().lm.vocabSize;
      const { logits, state } = await sessions().lm.prefill(ids(c.input_ids_file), rows);
      const steps = [logits];
      for (let i = 1; i < generated.length; i++)
        steps.push(await sessions().lm.step(state, generated[i - 1]!));
      sessions().lm.release(state);
      for (let k = 0; k * V < golden.length; k++) {
        expect(maxAbsDiff(steps[k]!, golden.subarray(k * V, (k + 1) * V)), `step ${k}`).toBeLessThan(
          LOGITS_TOL,
        );
      }
      expect(steps.map(argmax)).toEqual(generated);
    },
  );
});
