import type { Command } from './command.js';

/**
 * Every subcommand, in the order `cxr --help` lists them. One file per command under src/cli/;
 * each is loaded lazily so `cxr eval` never pays for onnxruntime or sharp.
 */
export const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  version: {
    summary: 'print the cxr version',
    load: async () => (await import('./version.js')).versionCommand,
  },
  inspect: {
    summary: 'show image metadata and whether it is a frontal chest radiograph',
    load: async () => (await import('./inspect.js')).inspectCommand,
  },
  preprocess: {
    summary: 'image -> LLaVA-Rad input tensor (.npy) and 8-bit crop',
    load: async () => (await import('./preprocess.js')).preprocessCommand,
  },
  eval: {
    summary: 'score findings against references',
    load: async () => (await import('./eval.js')).evalCommand,
  },
  compare: {
    summary: 'compare systems: paired differences, CIs and p-values',
    load: async () => (await import('./compare.js')).compareCommand,
  },
  chexprompt: {
    summary: 'CheXprompt: an LLM judge counts significant and insignificant errors per report',
    load: async () => (await import('./chexprompt.js')).chexpromptCommand,
  },
  label: {
    summary: 'label reports with the 14 CheXpert observations (rule-based)',
    load: async () => (await import('./label.js')).labelCommand,
  },
};
