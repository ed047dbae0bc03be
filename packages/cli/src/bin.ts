#!/usr/bin/env node
// The `genrec` binary: runs one command line (runCli) with Ctrl-C wired to an AbortSignal. The
// first Ctrl-C stops training at the next step (the best model so far is saved, exit 130); a
// second one, or the first during a command that does not train, quits at once.
import { runCli } from './run-cli.js';

const argv = process.argv.slice(2);
const interruptible = ['train', 'sweep', 'evaluate', 'reproduce'].includes(argv.find((arg) => !arg.startsWith('-')) ?? '');
const controller = new AbortController();
process.on('SIGINT', () => {
  if (!interruptible || controller.signal.aborted) process.exit(130);
  controller.abort(new Error('interrupted (Ctrl-C)'));
  process.stderr.write('\ngenrec: Ctrl-C: stopping at the next step and keeping the best model so far (Ctrl-C again quits at once)\n');
});
process.exitCode = await runCli(argv, { signal: controller.signal });
