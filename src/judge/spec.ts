/**
 * Judge specs as users write them on the command line, and building a judge from one:
 *   openai:MODEL                 OpenAI's API
 *   azure:DEPLOYMENT             Azure OpenAI (endpoint and api-version from options)
 *   ollama:MODEL                 Ollama's OpenAI-compatible API on 127.0.0.1:11434
 *   http(s)://HOST:PORT/v1#MODEL any OpenAI-compatible server (vLLM, llama.cpp server, ...)
 *   gguf:/path/model.gguf        a local GGUF file through node-llama-cpp
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { inputError } from '../errors.js';
import { ggufJudge } from './gguf.js';
import {
  DEFAULT_AZURE_API_VERSION,
  OPENAI_BASE_URL,
  type OpenAIJudgeOptions,
  openAIJudge,
} from './openai.js';
import type { Judge } from './types.js';

export const OLLAMA_BASE_URL = 'http://127.0.0.1:11434/v1';

export type JudgeSpec =
  | { kind: 'openai'; model: string; baseURL: string }
  | { kind: 'azure'; model: string }
  | { kind: 'http'; model: string; baseURL: string }
  | { kind: 'gguf'; modelPath: string };

const SPEC_FORMS =
  'openai:MODEL, azure:DEPLOYMENT, ollama:MODEL, http://HOST:PORT/v1#MODEL or gguf:/path/model.gguf';

export function parseJudgeSpec(spec: string): JudgeSpec {
  const bad = (why: string) =>
    inputError('judge.bad_spec', why, { field: '--judge', expected: SPEC_FORMS, found: spec });
  if (/^https?:\/\//.test(spec)) {
    const hash = spec.indexOf('#');
    const model = hash >= 0 ? spec.slice(hash + 1) : '';
    if (!model) throw bad('a server URL needs the model after "#"');
    const baseURL = spec.slice(0, hash);
    try {
      new URL(baseURL);
    } catch {
      throw bad('not a valid URL');
    }
    return { kind: 'http', model, baseURL };
  }
  const colon = spec.indexOf(':');
  const scheme = colon > 0 ? spec.slice(0, colon) : '';
  const rest = spec.slice(colon + 1);
  if (!rest) throw bad('nothing after the scheme');
  switch (scheme) {
    case 'openai':
      return { kind: 'openai', model: rest, baseURL: OPENAI_BASE_URL };
    case 'azure':
      return { kind: 'azure', model: rest };
    case 'ollama':
      return { kind: 'http', model: rest, baseURL: OLLAMA_BASE_URL };
    case 'gguf':
      return { kind: 'gguf', modelPath: rest };
    default:
      throw bad('unknown judge');
  }
}

/** The settings every HTTP judge takes, as `openAIJudge` documents them. */
type HttpSettings = Pick<OpenAIJudgeOptions, 'apiKey' | 'params' | 'structured' | 'limitField'>;

/** Everything a spec leaves open; the CLI fills it from options and the environment. */
export interface JudgeSettings extends HttpSettings {
  azureEndpoint?: string;
  azureApiVersion?: string;
  ggufContextSize?: number;
  ggufThreads?: number;
}

/**
 * What identifies the judge in cache keys besides the model name: the backend and where it is (base URL, or the
 * GGUF file's name and size), never a key.
 */
export function judgeIdentity(spec: JudgeSpec, settings: JudgeSettings = {}): string {
  switch (spec.kind) {
    case 'openai':
    case 'http':
      return `${spec.kind}@${spec.baseURL}`;
    case 'azure':
      return `azure@${settings.azureEndpoint ?? ''}`;
    case 'gguf':
      return `gguf@${basename(spec.modelPath)}:${ggufSize(spec.modelPath)}`;
  }
}

function ggufSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    throw inputError('judge.gguf_missing', 'cannot read the GGUF model', { file: path });
  }
}

/** Every GGUF file starts with these bytes; anything else (a .bin, a folder, a JSONL) is the user's mix-up. */
const GGUF_MAGIC = 'GGUF';

function checkGgufMagic(path: string): void {
  let head = '';
  try {
    const fd = openSync(path, 'r');
    try {
      const bytes = Buffer.alloc(GGUF_MAGIC.length);
      head = bytes.subarray(0, readSync(fd, bytes, 0, bytes.length, 0)).toString('latin1');
    } finally {
      closeSync(fd);
    }
  } catch {
    throw inputError('judge.gguf_missing', 'cannot read the GGUF model', { file: path });
  }
  if (head !== GGUF_MAGIC)
    throw inputError('judge.not_gguf', 'not a GGUF model file', {
      file: path,
      expected: `a file starting with "${GGUF_MAGIC}"`,
      found: JSON.stringify(head),
    });
}

export async function createJudge(spec: JudgeSpec, settings: JudgeSettings = {}): Promise<Judge> {
  switch (spec.kind) {
    case 'openai':
    case 'http':
      return openAIJudge({
        ...spec,
        ...httpSettings(settings),
      });
    case 'azure':
      if (!settings.azureEndpoint) {
        throw inputError('judge.azure_endpoint', 'an Azure judge needs the resource endpoint', {
          field: '--azure-endpoint',
          expected: 'https://RESOURCE.openai.azure.com (or AZURE_OPENAI_ENDPOINT)',
        });
      }
      return openAIJudge({
        kind: 'azure',
        model: spec.model,
        azure: {
          endpoint: settings.azureEndpoint,
          apiVersion: settings.azureApiVersion ?? DEFAULT_AZURE_API_VERSION,
        },
        ...httpSettings(settings),
      });
    case 'gguf':
      checkGgufMagic(spec.modelPath);
      return ggufJudge({
        modelPath: spec.modelPath,
        params: settings.params,
        contextSize: settings.ggufContextSize,
        threads: settings.ggufThreads,
      });
  }
}

function httpSettings(s: JudgeSettings): HttpSettings {
  return { apiKey: s.apiKey, params: s.params, structured: s.structured, limitField: s.limitField };
}
