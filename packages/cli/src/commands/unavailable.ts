import type { CommandOutcome } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';

/** Commands whose slot exists but whose implementation lands with another package. */
export const UNAVAILABLE_COMMANDS: Readonly<Record<string, string>> = Object.freeze({
  align: 'preference alignment (DPO) of a trained model; it comes with the @genrec/dpo package',
});

/**
 * `genrec align` in this version: one line saying so, exit 69.
 *
 * @param command - `align`
 * @returns the outcome (exit code 69)
 * @example
 * ```ts
 * unavailableCommand('align').exitCode; // 69
 * ```
 */
export function unavailableCommand(command: string): CommandOutcome {
  const what = UNAVAILABLE_COMMANDS[command] ?? 'this command';
  const message = `genrec ${command} is not available in this version: ${what}`;
  return { exitCode: EXIT_CODES.unavailable, json: { ok: false, command, exitCode: EXIT_CODES.unavailable, error: { code: 'UNAVAILABLE', message } }, error: message };
}
