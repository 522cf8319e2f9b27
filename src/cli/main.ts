import { isCxrError } from '../errors.js';
import { type CliIO, formatHelp, parseCommandArgs } from './command.js';
import { COMMANDS } from './commands.js';

export const EXIT_OK = 0;
export const EXIT_INTERNAL = 1;
export const EXIT_BAD_INPUT = 2;

function topLevelHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length)) + 2;
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`);
  return `cxr: chest X-ray findings (LLaVA-Rad) and report evaluation\n\nUsage: cxr <command> [options]\n\nCommands:\n${rows.join('\n')}\n\nRun 'cxr <command> --help' for a command's options.\n`;
}

/** Run the CLI in-process; returns the exit code. Tests call this directly. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(topLevelHelp());
    return name === undefined ? EXIT_BAD_INPUT : EXIT_OK;
  }
  const entry = COMMANDS[name === '--version' ? 'version' : name];
  if (!entry) {
    io.stderr(`cxr: unknown command '${name}'\n\n${topLevelHelp()}`);
    return EXIT_BAD_INPUT;
  }
  try {
    const command = await entry.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout(formatHelp(command));
      return EXIT_OK;
    }
    return await command.run(parseCommandArgs(command, rest), io);
  } catch (e) {
    if (isCxrError(e) && e.kind === 'input') {
      io.stderr(`cxr ${name}: error: ${e.message}\n`);
      return EXIT_BAD_INPUT;
    }
    // A CxrError is a failure cxr foresaw and worded; a stack trace is only for the unforeseen.
    const text = isCxrError(e) ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e);
    io.stderr(`cxr ${name}: internal error: ${text}\n`);
    return EXIT_INTERNAL;
  }
}

/**
 * stdout as the CLI sees it. A reader that goes away early (`cxr label x.jsonl | head -1`) turns further output
 * into no-ops instead of an unhandled EPIPE crash; the command still finishes, so files it writes are complete.
 */
function stdoutWriter(): (text: string) => void {
  let closed = false;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    closed = true;
  });
  return (t) => {
    if (!closed) process.stdout.write(t);
  };
}

export function processIO(): CliIO {
  return {
    stdout: stdoutWriter(),
    stderr: (t) => process.stderr.write(t),
    isTTY: Boolean(process.stderr.isTTY),
    env: process.env,
    cwd: process.cwd(),
  };
}
