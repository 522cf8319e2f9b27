#!/usr/bin/env node
import { EXIT_INTERNAL, processIO, runCli } from './main.js';

runCli(process.argv.slice(2), processIO()).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`cxr: ${String(e)}\n`);
    process.exitCode = EXIT_INTERNAL;
  },
);
