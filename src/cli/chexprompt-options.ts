/**
 * The judge options of `cxr chexprompt`, also offered by `cxr eval` for `--metrics ...,chexprompt`. Kept apart
 * from chexprompt.ts so eval.ts can list them without importing the command (the two import each other's
 * helpers otherwise).
 */
import { parseMetricList } from '../eval/index.js';
import type { OptionSpec } from './command.js';

export const DEFAULT_CONCURRENCY = 4;
export const CHEXPROMPT_METRIC = 'chexprompt';
/** The answer cache under the user's cache folder ($XDG_CACHE_HOME, else ~/.cache). */
export const DEFAULT_CACHE_PATH = ['cxr', 'judge-answers.sqlite'] as const;

export const CHEXPROMPT_OPTIONS: Record<string, OptionSpec> = {
  judge: {
    type: 'string',
    valueName: 'SPEC',
    description:
      'openai:MODEL, azure:DEPLOYMENT, ollama:MODEL, http://HOST:PORT/v1#MODEL or gguf:/path/model.gguf',
  },
  'prompt-file': {
    type: 'string',
    valueName: 'FILE',
    description: 'prompt template with {{reference}} {{candidate}} [{{output_format}} {{examples}}]',
  },
  'answer-format': {
    type: 'string',
    valueName: 'list|json',
    description: 'answer format asked for (default: json for judges that enforce a schema, else list)',
  },
  structured: { type: 'boolean', description: 'HTTP judges: ask for JSON-schema structured output' },
  'max-completion-tokens': {
    type: 'boolean',
    description: 'send the answer limit as max_completion_tokens (OpenAI reasoning models)',
  },
  temperature: { type: 'string', valueName: 'T', description: 'judge sampling temperature', default: '0' },
  'max-tokens': {
    type: 'string',
    valueName: 'N',
    description: 'judge answer tokens at most',
    default: '128',
  },
  'judge-seed': { type: 'string', valueName: 'N', description: 'sampling seed sent to the judge' },
  concurrency: {
    type: 'string',
    valueName: 'N',
    description: 'judge requests in flight',
    default: String(DEFAULT_CONCURRENCY),
  },
  rpm: {
    type: 'string',
    valueName: 'N',
    description: 'judge requests per minute at most (0: no limit)',
    default: '0',
  },
  timeout: { type: 'string', valueName: 'SEC', description: 'judge per-request timeout', default: '60' },
  retries: { type: 'string', valueName: 'N', description: 'judge retries on 429/5xx/timeouts', default: '6' },
  'parse-retries': {
    type: 'string',
    valueName: 'N',
    description: 'asks again after an unreadable answer',
    default: '2',
  },
  cache: {
    type: 'string',
    valueName: 'FILE',
    description: `judge answer cache (default: ~/.cache/${DEFAULT_CACHE_PATH.join('/')})`,
  },
  'no-cache': { type: 'boolean', description: 'neither read nor write the answer cache' },
  'azure-endpoint': {
    type: 'string',
    valueName: 'URL',
    description: 'Azure resource endpoint (or AZURE_OPENAI_ENDPOINT)',
  },
  'api-version': { type: 'string', valueName: 'V', description: 'Azure api-version (or OPENAI_API_VERSION)' },
  price: {
    type: 'string',
    valueName: 'IN,OUT',
    description: 'USD per million prompt,completion tokens (for the cost)',
  },
  threads: { type: 'string', valueName: 'N', description: 'GGUF judges: CPU threads' },
  context: {
    type: 'string',
    valueName: 'N',
    description: 'GGUF judges: context window in tokens',
    default: '4096',
  },
};

/** `--metrics a,b,chexprompt`: the model-free metrics for the registry, and whether the judge metric was asked. */
export function splitChexpromptMetric(spec: string | undefined): { metrics: string[]; chexprompt: boolean } {
  const names = (spec ?? '').split(',').map((s) => s.trim());
  if (!names.includes(CHEXPROMPT_METRIC)) return { metrics: parseMetricList(spec), chexprompt: false };
  const rest = names.filter((n) => n !== CHEXPROMPT_METRIC && n !== '');
  return { metrics: rest.length === 0 ? [] : parseMetricList(rest.join(',')), chexprompt: true };
}
