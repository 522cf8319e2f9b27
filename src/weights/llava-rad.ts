/**
 * Resolve the released LLaVA-Rad folder and the Vicuna base folder (SPEC.md §4) into the three named
 * tensor sets of LlavaRadWeights, with typed configs checked against the tensor shapes.
 */
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { inputError } from '../errors.js';
import {
  parseGenerationConfig,
  parseLlamaConfig,
  parseLoraConfig,
  parseProjectorConfig,
  parseVisionConfig,
  readJson,
} from './configs.js';
import { mergeLora } from './lora.js';
import { openModelDir, openTensorFile } from './open.js';
import { prefixView } from './source.js';
import type { LlavaRadConfig, LlavaRadWeights, OpenLlavaRadOptions, TensorSource } from './types.js';
import { validateLanguage, validateProjector, validateVision } from './validate.js';

/** File names of the released microsoft/llava-rad repository. */
export const LLAVA_RAD_FILES = {
  config: 'config.json',
  adapterConfig: 'adapter_config.json',
  adapter: 'adapter_model.bin',
  projector: 'non_lora_trainables.bin',
  openClipConfig: 'biomedclipcxr_518.json',
  visionCheckpoint: 'biomedclipcxr_518_checkpoint.pt',
} as const;

/** File names of the lmsys/vicuna-7b-v1.5 base that are read besides the weights. */
export const BASE_FILES = {
  config: 'config.json',
  generationConfig: 'generation_config.json',
  tokenizer: 'tokenizer.model',
} as const;

const ADAPTER_SAFETENSORS = 'adapter_model.safetensors';

/** Where each part lives inside its checkpoint. */
const VISION_STATE_KEY = 'state_dict';
const VISION_PREFIXES = ['module.visual.trunk.', 'visual.trunk.'];
const PROJECTOR_PREFIX = 'base_model.model.model.mm_projector.';

export async function readLlavaRadConfig(llavaDir: string, baseDir: string): Promise<LlavaRadConfig> {
  const llavaPath = join(llavaDir, LLAVA_RAD_FILES.config);
  const llava = await readJson(llavaPath);
  const llama = parseLlamaConfig(llavaPath, llava);
  const openClipPath = join(llavaDir, LLAVA_RAD_FILES.openClipConfig);
  const adapterPath = join(llavaDir, LLAVA_RAD_FILES.adapterConfig);
  const genPath = join(baseDir, BASE_FILES.generationConfig);
  return {
    llama,
    vision: parseVisionConfig(openClipPath, await readJson(openClipPath), llavaPath, llava),
    projector: parseProjectorConfig(llavaPath, llava),
    lora: parseLoraConfig(adapterPath, await readJson(adapterPath)),
    generation: parseGenerationConfig(genPath, await readJson(genPath), llama),
  };
}

export async function openLlavaRad(opts: OpenLlavaRadOptions): Promise<LlavaRadWeights> {
  const { llavaDir, baseDir } = opts;
  await checkFolders(llavaDir, baseDir);
  const config = await readLlavaRadConfig(llavaDir, baseDir);
  const tokenizerModelPath = join(baseDir, BASE_FILES.tokenizer);
  await requireFile(tokenizerModelPath);
  const opened: TensorSource[] = [];
  const track = async (p: Promise<TensorSource>) => {
    const s = await p;
    opened.push(s);
    return s;
  };
  try {
    const visionFile = await track(
      openTensorFile(join(llavaDir, await visionCheckpointName(llavaDir)), { key: VISION_STATE_KEY }),
    );
    const projectorFile = await track(openTensorFile(join(llavaDir, LLAVA_RAD_FILES.projector)));
    const base = await track(openModelDir(baseDir));
    const adapter = await track(openTensorFile(await adapterPath(llavaDir)));
    const vision = prefixView(visionFile, visionPrefix(visionFile));
    const projector = prefixView(projectorFile, PROJECTOR_PREFIX);
    const language = mergeLora(base, adapter, config.lora, opts.mergePrecision ?? 'fp16');
    validateVision(vision, config.vision);
    validateProjector(projector, config.projector);
    validateLanguage(language, config.llama, config.lora, adapter);
    return {
      config,
      vision,
      projector,
      language,
      tokenizerModelPath,
      close: async () => {
        await Promise.all(opened.map((s) => s.close()));
      },
    };
  } catch (e) {
    await Promise.all(opened.map((s) => s.close()));
    throw e;
  }
}

/** config.json names the vision checkpoint (`mm_vision_tower_checkpoint`); the released name otherwise. */
async function visionCheckpointName(llavaDir: string): Promise<string> {
  const llava = await readJson(join(llavaDir, LLAVA_RAD_FILES.config));
  const named = llava.mm_vision_tower_checkpoint;
  return typeof named === 'string' && named ? basename(named) : LLAVA_RAD_FILES.visionCheckpoint;
}

function visionPrefix(source: TensorSource): string {
  const names = source.list().map((t) => t.name);
  const prefix = VISION_PREFIXES.find((p) => names.some((n) => n.startsWith(p)));
  if (!prefix) {
    throw inputError('weights.missing_tensor', 'no vision trunk tensors in the open_clip checkpoint', {
      file: source.origin,
      field: `${VISION_STATE_KEY}.${VISION_PREFIXES[0]}*`,
    });
  }
  return prefix;
}

/**
 * The two mistakes a user makes with the two folders: naming a file inside one (`--llava llava-rad/config.json`)
 * and swapping them. Both would otherwise surface as a missing file deep inside, with a `cxr pull` hint.
 */
async function checkFolders(llavaDir: string, baseDir: string): Promise<void> {
  for (const [dir, what] of [
    [llavaDir, 'the LLaVA-Rad folder'],
    [baseDir, 'the Vicuna base folder'],
  ] as const) {
    const info = await stat(dir).catch(() => undefined);
    if (info && !info.isDirectory())
      throw inputError('weights.not_a_folder', 'is a file', { file: dir, expected: what });
  }
  const inBase = await isFile(join(baseDir, LLAVA_RAD_FILES.adapterConfig));
  const inLlava = await isFile(join(llavaDir, LLAVA_RAD_FILES.adapterConfig));
  if (inBase && !inLlava)
    throw inputError('weights.swapped_folders', `${LLAVA_RAD_FILES.adapterConfig} is in the base folder`, {
      file: baseDir,
      expected: 'the LLaVA-Rad folder as --llava and the Vicuna folder as --base (swapped?)',
    });
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function requireFile(path: string): Promise<void> {
  if (!(await isFile(path))) throw inputError('weights.missing_file', 'file not found', { file: path });
}

/** The released adapter is a torch file; newer PEFT versions save the same tensors as safetensors. */
async function adapterPath(llavaDir: string): Promise<string> {
  const released = join(llavaDir, LLAVA_RAD_FILES.adapter);
  const safetensors = join(llavaDir, ADAPTER_SAFETENSORS);
  return !(await isFile(released)) && (await isFile(safetensors)) ? safetensors : released;
}
