/**
 * chexbert.pth as users may have it: the torch zip of the fixture, a legacy (pre-1.6) torch.save of the bare
 * `module.` state dict, and a zip whose storages are tagged `cuda:0` under another top folder. Every variant
 * must give the same logits as the fixture.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChexbertLabeler } from '../../../src/eval/labels/chexbert-labeler.js';
import { openTensorFile } from '../../../src/weights/index.js';
import { PickleBuilder } from '../../../src/weights/pickle-writer.js';
import {
  contiguous,
  stateDictPickle,
  type TensorToWrite,
  writeTorchLegacy,
  writeTorchZip,
} from '../../../src/weights/write.js';
import { FIXTURES } from '../../helpers.js';

const DIR = join(FIXTURES, 'oracle', 'chexbert-tiny');
const TEXTS = ['Heart size is normal. No pleural effusion.', 'Possible left lower lobe pneumonia.', ''];

const work = mkdtempSync(join(tmpdir(), 'cxr-chexbert-ckpt-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function logitsOf(weights: string): Promise<number[][][]> {
  const labeler = await ChexbertLabeler.open(weights, {
    vocabPath: join(DIR, 'vocab.txt'),
    configPath: join(DIR, 'config.json'),
    threads: 1,
  });
  try {
    return (await labeler.label(TEXTS)).map((r) => r.logits);
  } finally {
    await labeler.close();
  }
}

/** The `module.` tensors of the fixture's model_state_dict, as the weights writers take them. */
async function fixtureTensors(): Promise<TensorToWrite[]> {
  const file = await openTensorFile(join(DIR, 'chexbert.pth'), { key: 'model_state_dict' });
  try {
    const out: TensorToWrite[] = [];
    for (const info of file.list()) out.push({ ...info, data: await file.readBytes(info.name) });
    return out;
  } finally {
    await file.close();
  }
}

/** A BINUNICODE string opcode, as the pickle writer emits it. */
function pickledString(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  return [0x58, b.length, 0, 0, 0, ...b];
}

/** Retag every storage location (torch.save without map_location keeps the device the model was on). */
function retag(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const [f, t] = [pickledString(from), pickledString(to)];
  const out: number[] = [];
  let count = 0;
  for (let i = 0; i < bytes.length; ) {
    if (f.every((b, k) => bytes[i + k] === b)) {
      out.push(...t);
      i += f.length;
      count++;
    } else out.push(bytes[i++]!);
  }
  expect(count).toBeGreaterThan(0);
  return Uint8Array.from(out);
}

describe('chexbert.pth variants', () => {
  let reference: number[][][];
  let tensors: TensorToWrite[];
  beforeAll(async () => {
    reference = await logitsOf(join(DIR, 'chexbert.pth'));
    tensors = await fixtureTensors();
  });

  it('reads a legacy torch.save of the bare state dict with cuda:0 storages', async () => {
    const path = join(work, 'legacy.pth');
    const { storages, views } = contiguous(tensors);
    await writeTorchLegacy(path, storages, views);
    writeFileSync(path, retag(readFileSync(path), 'cpu', 'cuda:0'));
    expect(await logitsOf(path)).toEqual(reference);
  });

  it('reads the training-script dict {epoch, model_state_dict, optimizer_state_dict} from a zip with another top folder and cuda:0 storages', async () => {
    const path = join(work, 'renamed.pth');
    const { storages, views } = contiguous(tensors);
    const stateDict = stateDictPickle(storages, views);
    // torch.save({'epoch': 3, 'model_state_dict': sd, 'optimizer_state_dict': {}}): the state-dict pickle,
    // without its PROTO header and STOP, nested as a value of the outer dict.
    const pickle = new PickleBuilder()
      .proto(2)
      .emptyDict()
      .mark()
      .str('epoch')
      .int(3)
      .str('model_state_dict')
      .raw(...stateDict.subarray(2, stateDict.length - 1))
      .str('optimizer_state_dict')
      .emptyDict()
      .setItems()
      .stop()
      .bytes();
    await writeTorchZip(path, storages, views, {
      archive: 'my_run_epoch3',
      pickle: retag(pickle, 'cpu', 'cuda:0'),
    });
    expect(await logitsOf(path)).toEqual(reference);
  });
});
