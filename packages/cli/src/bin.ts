#!/usr/bin/env node
// The `genrec` binary: runs one command line (runCli) with Ctrl-C wired to an AbortSignal. The
// first Ctrl-C stops training at the next step (the best model so far is saved, exit 130); a
// second one, or the first during a command that does not train, quits at once. For `serve`,
// Ctrl-C and SIGTERM both abort the signal (the service drains its requests, then exit 0); a
// second one quits at once. This is the only SIGINT/SIGTERM handler: `serve` starts its server
// without its own (`handleSignals: false`) and handles only SIGHUP (hot swap).
import { runCli } from './run-cli.js';

const argv = process.argv.slice(2);
const command = argv.find((arg) => !arg.startsWith('-')) ?? '';
const interruptible = ['train', 'sweep', 'evaluate', 'reproduce', 'serve'].includes(command);
const controller = new AbortController();
const interrupt = (signal: NodeJS.Signals): void => {
  if (!interruptible || controller.signal.aborted) process.exit(130);
  if (command === 'serve') {
    controller.abort(new Error(signal === 'SIGTERM' ? 'SIGTERM' : 'Ctrl-C')); // serve prints its own line
    return;
  }
  controller.abort(new Error('interrupted (Ctrl-C)'));
  process.stderr.write('\ngenrec: Ctrl-C: stopping at the next step and keeping the best model so far (Ctrl-C again quits at once)\n');
};
process.on('SIGINT', () => interrupt('SIGINT'));
if (command === 'serve') process.on('SIGTERM', () => interrupt('SIGTERM'));
process.exitCode = await runCli(argv, { signal: controller.signal });
