import { resolve } from 'node:path';
import { inputError } from '../errors.js';
import {
  DEFAULT_ATTEMPTS,
  type HubProgress,
  licenceAccepted,
  PULL_TARGETS,
  pull,
  pullTarget,
} from '../weights/index.js';
import { type CliIO, type Command, flag, int, str, strList } from './command.js';

/** A TTY bar is redrawn at most this often. */
const BAR_INTERVAL_MS = 200;
const BAR_WIDTH = 30;
/** Without a TTY, a line at every quarter of a file. */
const PLAIN_STEPS = 4;

function pairs(values: string[], option: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const at = v.lastIndexOf('=');
    if (at <= 0)
      throw inputError('cli.bad_option', 'expected REPO=VALUE', { field: `--${option}`, found: v });
    out[v.slice(0, at)] = v.slice(at + 1);
  }
  return out;
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** Progress as a redrawn bar on a terminal, as a few plain lines otherwise. */
function progressPrinter(io: CliIO): (p: HubProgress) => void {
  let lastDraw = 0;
  const reported = new Map<string, number>();
  return (p) => {
    const fraction = p.total > 0 ? p.received / p.total : 1;
    if (io.isTTY) {
      const now = Date.now();
      if (!p.done && now - lastDraw < BAR_INTERVAL_MS) return;
      lastDraw = now;
      const filled = Math.round(fraction * BAR_WIDTH);
      const bar = `${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}`;
      io.stderr(
        `\r${p.file} [${bar}] ${(fraction * 100).toFixed(0)}% ${mb(p.received)}/${mb(p.total)}${p.done ? '\n' : ''}`,
      );
      return;
    }
    const step = p.done ? PLAIN_STEPS : Math.floor(fraction * PLAIN_STEPS);
    if (!reported.has(p.file)) {
      const from = p.resumedFrom > 0 ? `, resuming at ${mb(p.resumedFrom)}` : '';
      io.stderr(`${p.file}: downloading ${mb(p.total)}${from}\n`);
      reported.set(p.file, step);
    }
    if (step > reported.get(p.file)!) {
      reported.set(p.file, step);
      io.stderr(p.done ? `${p.file}: done, verifying\n` : `${p.file}: ${(step * 100) / PLAIN_STEPS}%\n`);
    }
  };
}

export const pullCommand: Command = {
  name: 'pull',
  summary: 'Download released weights from the Hugging Face hub (resumable, checksum-verified).',
  usage: `TARGET... [--dir DIR] [--accept-licence]`,
  options: {
    dir: {
      type: 'string',
      description: 'where to put the files (one folder per repository)',
      valueName: 'DIR',
      default: 'models',
    },
    'accept-licence': {
      type: 'boolean',
      description: "accept the weights' licence notice (asked once per target)",
    },
    revision: {
      type: 'string',
      multiple: true,
      description: 'use this revision of a repository instead of the pinned one',
      valueName: 'REPO=REV',
    },
    repo: {
      type: 'string',
      multiple: true,
      description: 'fetch from another repository id (a mirror)',
      valueName: 'REPO=ID',
    },
    endpoint: {
      type: 'string',
      description: 'hub address (default: $HF_ENDPOINT or https://huggingface.co)',
      valueName: 'URL',
    },
    attempts: {
      type: 'string',
      description: 'tries per file, each resuming the last (default 4)',
      valueName: 'N',
    },
  },
  details: `Targets:\n${Object.values(PULL_TARGETS)
    .map((t) => `  ${t.name.padEnd(12)}${t.description}`)
    .join(
      '\n',
    )}\n\nHF_TOKEN is sent when set (gated repositories). The first pull of a folder records the commit\nit got in DIR/<folder>/.cxr-pull.json; later pulls fetch that commit unless --revision says otherwise.\nAn interrupted download resumes when the same command is run again.`,
  async run(args, io) {
    if (args.positionals.length === 0) {
      throw inputError('cli.bad_args', 'name at least one target', {
        expected: Object.keys(PULL_TARGETS).join(' | '),
      });
    }
    const targets = args.positionals.map(pullTarget);
    const dir = resolve(io.cwd, str(args, 'dir') ?? 'models');
    for (const target of targets) {
      if (await licenceAccepted(dir, target, flag(args, 'accept-licence'))) continue;
      io.stderr(`Licence notice for '${target.name}':\n\n${target.licence}\n\n`);
      throw inputError(
        'pull.licence',
        `run again with --accept-licence to accept the notice for '${target.name}'`,
        {
          field: '--accept-licence',
        },
      );
    }
    const opts = {
      endpoint: str(args, 'endpoint') ?? io.env.HF_ENDPOINT,
      token: io.env.HF_TOKEN || undefined,
      attempts: int(args, 'attempts', DEFAULT_ATTEMPTS),
      revisions: pairs(strList(args, 'revision'), 'revision'),
      repoIds: pairs(strList(args, 'repo'), 'repo'),
      onProgress: progressPrinter(io),
    };
    for (const target of targets) {
      for (const r of await pull(target, dir, opts)) {
        io.stdout(
          `${r.repo}@${r.commit}: ${r.downloaded.length} downloaded, ${r.present.length} already present -> ${r.folder}\n`,
        );
      }
    }
    return 0;
  },
};
