/** llava/: the composition of graphs, prompt and generation. */
export {
  buildGraphs,
  createSessions,
  GRAPH_SPEC_FILE,
  type GraphOptions,
  type GraphSpec,
  type LlavaGraphs,
  type LlavaSessions,
  loadSessions,
  OrtCausalLM,
  OrtVisionEncoder,
  type SessionOptions,
  saveGraphs,
} from './sessions.js';
export * from './types.js';
