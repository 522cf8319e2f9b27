/** llava/: the composition of graphs, prompt and generation. */

export {
  type BatchOptions,
  type BatchProgress,
  type BatchSummary,
  checkBatchOutput,
  IMAGE_EXTENSIONS,
  readStudies,
  runBatch,
  type Study,
  type StudyLine,
} from './batch.js';
export {
  BUNDLE_DTYPES,
  BUNDLE_FILES,
  type BundleConfig,
  type BundleDtype,
  type BundleManifest,
  type ImportOptions,
  importBundle,
  type LoadedBundle,
  loadBundle,
  sha256File,
} from './bundle.js';
export {
  checkGenerationOptions,
  GENERATION_DEFAULTS,
  type GenerationOptions,
  type GenerationResult,
  type GenerationTimings,
  generate,
  promptLength,
  type StopReason,
  type TokenEvent,
} from './generate.js';
export {
  type FindingsOptions,
  type FindingsResult,
  type LlavaModel,
  openBundleModel,
  openReleasedModel,
  runFindings,
  type StageTimings,
  type StudyRequest,
} from './pipeline.js';
export {
  buildPrompt,
  buildUserMessage,
  INSTRUCTION_KINDS,
  type InstructionKind,
  PROMPT,
  type PromptOptions,
  postprocessFindings,
  promptIds,
  pythonStrip,
  tokenizePrompt,
} from './prompt.js';
export { argmax, logSoftmax, sampleToken, seededRandom } from './sampling.js';
export {
  buildGraphs,
  createSessions,
  GRAPH_SPEC_FILE,
  type GraphOptions,
  type GraphSpec,
  type LlavaGraphs,
  type LlavaSessions,
  loadCausalLM,
  loadSessions,
  OrtCausalLM,
  OrtVisionEncoder,
  PREFILL_CHUNK,
  type SessionOptions,
  saveGraphs,
} from './sessions.js';
export { type Detokenizer, FindingsStream, StreamDecoder } from './stream.js';
export * from './types.js';
