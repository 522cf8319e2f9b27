/** models/: one file per architecture (config + weight names + graph); graphs from named weights, no files. */

export {
  BERT_BASE_UNCASED,
  type BertConfig,
  bertConfigFromJson,
  bertNames,
  buildChexbertGraph,
  CHEXBERT_CLASSES,
  CHEXBERT_HEADS,
  CHEXBERT_IO,
  chexbertWeightShapes,
  NO_FINDING_CLASSES,
  validateChexbertWeights,
} from './bert.js';
export {
  DECODER_IO,
  decoderGraph,
  embeddingGraph,
  headDim,
  KV_KEYS,
  type KvKeys,
  LLAMA_WEIGHTS,
  ropeTables,
} from './llama.js';
export { PROJECTOR_WEIGHTS, projectorGraph } from './projector.js';
export { VIT_WEIGHTS, vitGraph, vitPatches } from './vit.js';
export type { DecoderDtype, VisionDtype } from './weights.js';
