/**
 * A local GGUF judge through node-llama-cpp: the prebuilt CPU binary (`build: 'never'`, nothing is compiled or
 * downloaded), one context sequence, requests served one at a time, and a JSON-schema grammar whenever the
 * request carries a schema, so a constrained answer always has the right shape.
 */
import { basename } from 'node:path';
import type { ChatHistoryItem, Llama, LlamaContext, LlamaGrammar, LlamaModel } from 'node-llama-cpp';
import {
  DEFAULT_JUDGE_PARAMS,
  type Judge,
  type JudgeAnswer,
  JudgeFatalError,
  type JudgeParams,
  type JudgeRequest,
} from './types.js';

/** Context window when the user does not choose one: room for the CheXprompt prompt and two long reports. */
export const DEFAULT_GGUF_CONTEXT = 4096;

export interface GgufJudgeOptions {
  modelPath: string;
  params?: Partial<JudgeParams>;
  contextSize?: number;
  /**
   * CPU threads for evaluation; undefined = node-llama-cpp's default (all cores). On a 2-core machine a tiny model
   * ran 10x slower with 2 threads than with 1 (thread hand-off dominates), so small models want 1.
   */
  threads?: number;
  /** `false` = CPU only (the default), `'auto'` = whatever GPU backend the prebuilt binaries offer. */
  gpu?: false | 'auto';
}

export async function ggufJudge(options: GgufJudgeOptions): Promise<Judge> {
  const { getLlama, LlamaChatSession } = await import('node-llama-cpp');
  const llama: Llama = await getLlama({ build: 'never', gpu: options.gpu ?? false });
  let model: LlamaModel;
  try {
    model = await llama.loadModel({ modelPath: options.modelPath });
  } catch (e) {
    await llama.dispose();
    throw new JudgeFatalError(`cannot load GGUF model ${options.modelPath}: ${(e as Error).message}`);
  }
  const contextSize = Math.min(options.contextSize ?? DEFAULT_GGUF_CONTEXT, model.trainContextSize);
  const context: LlamaContext = await model.createContext({
    contextSize,
    ...(options.threads === undefined ? {} : { threads: options.threads }),
  });
  const sequence = context.getSequence();
  const params: JudgeParams = { ...DEFAULT_JUDGE_PARAMS, ...options.params };
  const grammars = new Map<string, Promise<LlamaGrammar>>();
  const grammarFor = (schema: Record<string, unknown>) => {
    const key = JSON.stringify(schema);
    if (!grammars.has(key)) grammars.set(key, llama.createGrammarForJsonSchema(schema as never));
    return grammars.get(key)!;
  };
  let queue: Promise<unknown> = Promise.resolve();

  const answer = async (request: JudgeRequest): Promise<JudgeAnswer> => {
    const { history, prompt } = toChatHistory(request);
    const promptTokens = model.tokenize(request.messages.map((m) => m.content).join('\n')).length;
    if (promptTokens + params.maxTokens > contextSize) {
      throw new JudgeFatalError(
        `prompt of about ${promptTokens} tokens plus ${params.maxTokens} answer tokens exceeds the ${contextSize}-token context`,
      );
    }
    await sequence.clearHistory();
    const before = {
      input: sequence.tokenMeter.usedInputTokens,
      output: sequence.tokenMeter.usedOutputTokens,
    };
    const session = new LlamaChatSession({ contextSequence: sequence, autoDisposeSequence: false });
    try {
      session.setChatHistory(history);
      const grammar = request.jsonSchema ? await grammarFor(request.jsonSchema) : undefined;
      const r = await session.promptWithMeta(prompt, {
        grammar,
        maxTokens: params.maxTokens,
        temperature: params.temperature,
        ...(params.seed === undefined ? {} : { seed: params.seed }),
        signal: request.signal,
      });
      return {
        text: r.responseText,
        finishReason: r.stopReason,
        usage: {
          promptTokens: sequence.tokenMeter.usedInputTokens - before.input,
          completionTokens: sequence.tokenMeter.usedOutputTokens - before.output,
        },
      };
    } finally {
      session.dispose({ disposeSequence: false });
    }
  };

  return {
    kind: 'gguf',
    // The file name, not the path: signatures should not depend on where a user keeps models.
    model: basename(options.modelPath),
    params,
    structured: true,
    complete(request) {
      // One sequence: answer strictly one request after another, whatever the scheduler's concurrency.
      const result = queue.then(() => answer(request));
      queue = result.catch(() => undefined);
      return result;
    },
    async close() {
      await queue;
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

/** Everything before the last user message becomes chat history; the last user message is the prompt. */
function toChatHistory(request: JudgeRequest): { history: ChatHistoryItem[]; prompt: string } {
  const last = request.messages.at(-1);
  if (last?.role !== 'user')
    throw new JudgeFatalError('the last message of a judge request must be the user');
  const history: ChatHistoryItem[] = request.messages.slice(0, -1).map((m) => {
    if (m.role === 'system') return { type: 'system', text: m.content };
    if (m.role === 'user') return { type: 'user', text: m.content };
    return { type: 'model', response: [m.content] };
  });
  return { history, prompt: last.content };
}
