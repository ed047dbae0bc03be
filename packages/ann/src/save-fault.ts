import { GenrecError } from '@genrec/core';

/**
 * Fault injection for the "a failed save leaves the previous index intact" check: when armed, the
 * next save of a genrec index throws after its data file is written and before its sidecar is, the
 * worst moment for a non-atomic writer. Root can write into read-only folders, so a test cannot rely
 * on file permissions to make a save fail.
 */
let armed = false;

/** Arms the fault: the next index save fails midway with `IO_ERROR`. Returns a function that disarms it. */
export function armSaveFault(): () => void {
  armed = true;
  return () => {
    armed = false;
  };
}

/** Called by the savers between the data file and the sidecar; throws once when armed. */
export function checkSaveFault(path: string): void {
  if (!armed) return;
  armed = false;
  throw new GenrecError('IO_ERROR', `injected save failure while writing ${path}`, { details: { file: path } });
}
