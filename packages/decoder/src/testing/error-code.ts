import { GenrecError } from '@genrec/core';

/** Test helper: the GenrecError code a promise rejects with, the text of any other error, or undefined when it resolves. */
export async function rejectionCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return GenrecError.isInstance(error) ? error.code : String(error);
  }
  return undefined;
}
