/** weights/: read released weight files safely and lazily, merge LoRA, download from the hub. */

export {
  DEFAULT_MAX_NEW_TOKENS,
  DEFAULT_ROPE_THETA,
  parseGenerationConfig,
  parseLlamaConfig,
  parseLoraConfig,
  parseProjectorConfig,
  parseVisionConfig,
  VISION_LAYER_NORM_EPS,
} from './configs.js';
export {
  DTYPE_BYTES,
  float32ToFp16Bits,
  fp16BitsToNumber,
  numelOf,
  roundToFp16,
  toFloat32,
} from './dtype.js';
export { RandomAccessFile } from './file.js';
export {
  DEFAULT_ATTEMPTS,
  downloadRepo,
  HF_ENDPOINT,
  type HubFile,
  type HubOptions,
  type HubProgress,
  type HubRepo,
  listRepo,
  lockedCommit,
} from './hub.js';
export { BASE_FILES, LLAVA_RAD_FILES, openLlavaRad, readLlavaRadConfig } from './llava-rad.js';
export { loraPairs, type MergePrecision, mergeLora, mergeMatrix } from './lora.js';
export { detectFormat, openModelDir, openSharded, openTensorFile, type WeightFormat } from './open.js';
export {
  licenceAccepted,
  PULL_TARGETS,
  type PullOptions,
  type PullRepo,
  type PullResult,
  type PullTarget,
  pull,
  pullTarget,
} from './pull.js';
export { openSafetensors } from './safetensors.js';
export { EntrySource, prefixView, type TensorEntry } from './source.js';
export { openTorchZip, TorchCheckpoint, type TorchLoadOptions, TorchTensor } from './torch.js';
export { openTorchLegacy } from './torch-legacy.js';
export * from './types.js';
export {
  type BytesSource,
  contiguous,
  type StorageToWrite,
  type TensorToWrite,
  type TorchZipOptions,
  type ViewToWrite,
  writeSafetensors,
  writeTorchLegacy,
  writeTorchZip,
} from './write.js';
