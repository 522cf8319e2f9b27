/**
 * What `cxr pull` fetches: named targets, each a list of hub repositories (id, default revision,
 * files, local folder) and the licence notice the user accepts once per target.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inputError } from '../errors.js';
import { downloadRepo, type HubOptions, listRepo, lockedCommit } from './hub.js';
import { BASE_FILES, LLAVA_RAD_FILES } from './llava-rad.js';

export interface PullRepo {
  repo: string;
  /**
   * Default revision. The first pull resolves it to a commit and records it in the folder's
   * `.cxr-pull.json`; later pulls use that commit unless a revision is given explicitly.
   */
  revision: string;
  files: readonly string[];
  /** Folder under the pull directory. */
  folder: string;
}

export interface PullTarget {
  name: string;
  description: string;
  repos: readonly PullRepo[];
  licence: string;
}

const VICUNA_SHARDS = ['pytorch_model-00001-of-00002.bin', 'pytorch_model-00002-of-00002.bin'];

export const PULL_TARGETS: Record<string, PullTarget> = {
  'llava-rad': {
    name: 'llava-rad',
    description:
      'LLaVA-Rad (microsoft/llava-rad) and its base, Vicuna-7B v1.5 (lmsys/vicuna-7b-v1.5): about 16 GB',
    repos: [
      {
        repo: 'microsoft/llava-rad',
        revision: 'main',
        folder: 'llava-rad',
        files: Object.values(LLAVA_RAD_FILES),
      },
      {
        repo: 'lmsys/vicuna-7b-v1.5',
        revision: 'main',
        folder: 'vicuna-7b-v1.5',
        files: [
          ...Object.values(BASE_FILES),
          'pytorch_model.bin.index.json',
          ...VICUNA_SHARDS,
          'tokenizer_config.json',
          'special_tokens_map.json',
        ],
      },
    ],
    licence: [
      'LLaVA-Rad weights (microsoft/llava-rad) are released by Microsoft for research use only; they may',
      'not be redistributed and are not for clinical use. Vicuna-7B v1.5 (lmsys/vicuna-7b-v1.5) is a',
      'fine-tune of Llama 2 and comes under the Llama 2 Community License. Read both licences on the',
      'model pages (huggingface.co/microsoft/llava-rad, huggingface.co/lmsys/vicuna-7b-v1.5) first.',
    ].join('\n'),
  },
  chexbert: {
    name: 'chexbert',
    description:
      'CheXbert labeler checkpoint (StanfordAIMI/RRG_scorers, chexbert.pth) + the BERT vocabulary it reads',
    repos: [
      { repo: 'StanfordAIMI/RRG_scorers', revision: 'main', folder: 'chexbert', files: ['chexbert.pth'] },
      // The labeler tokenises with bert-base-uncased's vocabulary and reads it from beside the checkpoint.
      {
        repo: 'google-bert/bert-base-uncased',
        revision: 'main',
        folder: 'chexbert',
        files: ['vocab.txt', 'config.json'],
      },
    ],
    licence: [
      'The CheXbert checkpoint (StanfordAIMI/RRG_scorers) is provided by the Stanford AIMI Center for',
      'research use; see the repository page for its terms. It is not a medical device.',
      'bert-base-uncased (google-bert/bert-base-uncased) is under the Apache License 2.0.',
    ].join('\n'),
  },
};

export function pullTarget(name: string): PullTarget {
  const t = PULL_TARGETS[name];
  if (!t) {
    throw inputError('pull.unknown_target', 'unknown pull target', {
      field: name,
      expected: Object.keys(PULL_TARGETS).join(' | '),
    });
  }
  return t;
}

const LICENCE_FILE = join('.cxr', 'licences.json');

/** Whether the licence notice of `target` was accepted in `dir` (accepting records it). */
export async function licenceAccepted(dir: string, target: PullTarget, accept: boolean): Promise<boolean> {
  const path = join(dir, LICENCE_FILE);
  let accepted: Record<string, string> = {};
  try {
    accepted = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    // none accepted yet
  }
  if (accepted[target.name] === target.licence) return true;
  if (!accept) return false;
  accepted[target.name] = target.licence;
  try {
    await mkdir(join(dir, '.cxr'), { recursive: true });
    await writeFile(path, `${JSON.stringify(accepted, null, 2)}\n`);
  } catch (e) {
    // The first write into --dir: a file of that name or a read-only place is the user's to fix.
    throw inputError('pull.bad_dir', `cannot write into the download folder (${(e as Error).message})`, {
      file: dir,
      cause: e,
    });
  }
  return true;
}

export interface PullOptions extends HubOptions {
  /** repo id -> revision overriding the default (and the recorded commit). */
  revisions?: Record<string, string>;
  /** repo id -> replacement repo id (mirrors, forks). */
  repoIds?: Record<string, string>;
}

export interface PullResult {
  repo: string;
  commit: string;
  folder: string;
  downloaded: string[];
  present: string[];
}

/** Fetch every file of `target` into `dir/<folder>/`. */
export async function pull(target: PullTarget, dir: string, opts: PullOptions = {}): Promise<PullResult[]> {
  const results: PullResult[] = [];
  for (const r of target.repos) {
    const folder = join(dir, r.folder);
    const repo = opts.repoIds?.[r.repo] ?? r.repo;
    const revision = opts.revisions?.[r.repo] ?? (await lockedCommit(folder, r.files)) ?? r.revision;
    const listing = await listRepo(repo, revision, opts);
    const { downloaded, present } = await downloadRepo(listing, r.files, folder, opts);
    results.push({ repo, commit: listing.commit, folder, downloaded, present });
  }
  return results;
}
