import { GenrecError } from '@genrec/core';

/**
 * Fault injection for the conformance case "a failed save leaves the previous index intact": when
 * armed, the next `LanceIndex.save` throws `IO_ERROR` after the data is in place (copied, for a
 * save to another folder) and before the sidecar is switched — the worst moment. (Root may write
 * into read-only folders, so a test cannot make a save fail through permissions.)
 */
let armed = false;

/**
 * Arms the fault: the next LanceIndex save fails midway with `IO_ERROR`.
 *
 * @returns a function that disarms it.
 * @example
 * ```ts
 * const disarm = armLanceSaveFault();
 * try { await index.save(path); } catch { /* IO_ERROR *\/ } finally { disarm(); }
 * ```
 */
export function armLanceSaveFault(): () => void {
  armed = true;
  return () => {
    armed = false;
  };
}

/**
 * Called by the saves between writing the data and switching the sidecar; throws once when armed.
 *
 * @throws GenrecError `IO_ERROR` when armed.
 */
export function checkLanceSaveFault(path: string): void {
  if (!armed) return;
  armed = false;
  throw new GenrecError('IO_ERROR', `injected save failure while writing ${path}`, { details: { file: path } });
}
