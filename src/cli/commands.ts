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
  findings: {
    summary: 'draft the Findings section of chest X-rays (LLaVA-Rad)',
    load: async () => (await import('./findings.js')).findingsCommand,
  },
  import: {
    summary: 'released LLaVA-Rad + Vicuna files -> cxr model bundle',
    load: async () => (await import('./import.js')).importCommand,
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
  pull: {
    summary: 'download released weights from the Hugging Face hub',
    load: async () => (await import('./pull.js')).pullCommand,
  },
  label: {
    summary: 'label reports with the 14 CheXpert observations (rule-based or CheXbert)',
    load: async () => (await import('./label.js')).labelCommand,
  },
};
