/**
 * A local GGUF judge through node-llama-cpp: the prebuilt CPU binary (`build: 'never'`, nothing is compiled or
 * downloaded), one context sequence, requests served one at a time, and a JSON-schema grammar whenever the
 * request carries a schema, so a constrained answer always has the right shape.
 */
import { basename } from 'node:path';
import type {
  ChatHistoryItem,
  Llama,
  LlamaChatSession,
  LlamaContext,
  LlamaContextSequence,
  LlamaGrammar,
  LlamaModel,
} from 'node-llama-cpp';
import {
  type Judge,
  type JudgeAnswer,
  JudgeFatalError,
  type JudgeParams,
  type JudgeRequest,
  JudgeRequestError,
  judgeParams,
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
  const lib = await import('node-llama-cpp');
  const llama = await lib.getLlama({ build: 'never', gpu: options.gpu ?? false });
  let model: LlamaModel;
  try {
    model = await llama.loadModel({ modelPath: options.modelPath });
  } catch (e) {
    await llama.dispose();
    throw new JudgeFatalError(`cannot load GGUF model ${options.modelPath}: ${(e as Error).message}`);
  }
  const contextSize = Math.min(options.contextSize ?? DEFAULT_GGUF_CONTEXT, model.trainContextSize);
  const context = await model.createContext({
    contextSize,
    ...(options.threads === undefined ? {} : { threads: options.threads }),
  });
  const params = judgeParams(options.params);
  return new GgufJudge(lib.LlamaChatSession, llama, model, context, basename(options.modelPath), params);
}

class GgufJudge implements Judge {
  readonly kind = 'gguf';
  readonly structured = true;
  private readonly sequence: LlamaContextSequence;
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ChatSession: typeof LlamaChatSession,
    private readonly llama: Llama,
    private readonly llamaModel: LlamaModel,
    private readonly context: LlamaContext,
    /** The file name, not the path: signatures should not depend on where a user keeps models. */
    readonly model: string,
    readonly params: JudgeParams,
  ) {
    this.sequence = context.getSequence();
  }

  complete(request: JudgeRequest): Promise<JudgeAnswer> {
    // One sequence: answer strictly one request after another, whatever the scheduler's concurrency.
    const result = this.queue.then(() => this.answer(request));
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.context.dispose();
    await this.llamaModel.dispose();
    await this.llama.dispose();
  }

  private grammarFor(schema: Record<string, unknown>): Promise<LlamaGrammar> {
    const key = JSON.stringify(schema);
    if (!this.grammars.has(key))
      this.grammars.set(key, this.llama.createGrammarForJsonSchema(schema as never));
    return this.grammars.get(key)!;
  }

  /** Refuse rather than let the context shift silently drop part of the prompt. */
  private checkFits(request: JudgeRequest): void {
    const promptTokens = this.llamaModel.tokenize(request.messages.map((m) => m.content).join('\n')).length;
    const contextSize = this.context.contextSize;
    if (promptTokens + this.params.maxTokens > contextSize) {
      throw new JudgeRequestError(
        `prompt of about ${promptTokens} tokens plus ${this.params.maxTokens} answer tokens exceeds the ${contextSize}-token context`,
      );
    }
  }

  private async answer(request: JudgeRequest): Promise<JudgeAnswer> {
    const { history, prompt } = toChatHistory(request);
    this.checkFits(request);
    const { sequence, params } = this;
    await sequence.clearHistory();
    const before = {
      input: sequence.tokenMeter.usedInputTokens,
      output: sequence.tokenMeter.usedOutputTokens,
    };
    const session = new this.ChatSession({ contextSequence: sequence, autoDisposeSequence: false });
    try {
      session.setChatHistory(history);
      const grammar = request.jsonSchema ? await this.grammarFor(request.jsonSchema) : undefined;
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
  }
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
