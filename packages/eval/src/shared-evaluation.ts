import { GenrecError } from '@genrec/core';
import type { AccuracyAccumulator } from './accuracy-accumulator.js';
import type { BeyondAccuracyAccumulator } from './beyond-accuracy.js';
import type { DecodingDiagnostics, EvaluationResult } from './evaluation-result.js';
import type { ExposureResult } from './exposure.js';
import { validateItemSets, type UserItemSets } from './item-sets.js';
import type { EvaluationProtocol } from './protocol.js';

/**
 * Checks the history sets of an evaluation (internal, shared by `evaluateRankedLists` and
 * `evaluateScores`): present when `maskHistory` asks for them, one set per user, ids in the catalogue.
 *
 * @param subject - what the user count comes from, with its verb, for messages ("ranked lists cover")
 * @throws GenrecError `INVALID_OPTION` when masking without history; `SHAPE_MISMATCH` for a user
 *   count mismatch; what {@link validateItemSets} throws
 */
export function checkHistory(
  history: UserItemSets | undefined,
  maskHistory: boolean,
  userCount: number,
  itemCount: number,
  subject: string,
): void {
  if (maskHistory && history === undefined) {
    throw new GenrecError('INVALID_OPTION', 'maskHistory is true but no history was given', { details: { field: 'history' } });
  }
  if (history !== undefined) {
    if (history.userCount !== userCount) {
      throw new GenrecError('SHAPE_MISMATCH', `${subject} ${userCount} users but history covers ${history.userCount}`, {
        details: { field: 'history' },
      });
    }
    validateItemSets(history, itemCount, 'history');
  }
}

/** What {@link assembleEvaluationResult} puts together. */
export interface EvaluationParts {
  /** The system label (`options.system`). */
  system: string | undefined;
  /** The protocol the evaluation ran under. */
  protocol: EvaluationProtocol;
  /** Number of users evaluated or skipped. */
  userCount: number;
  /** Accuracy sums and per-user values. */
  accuracy: AccuracyAccumulator;
  /** Beyond-accuracy sums, when computed. */
  beyond: BeyondAccuracyAccumulator | undefined;
  /** Decoding diagnostics (ranked lists only). */
  decoding: DecodingDiagnostics | null;
  /** Exposure result, when computed. */
  exposure: ExposureResult | null;
  /** Leave `mrr@full` out of the means and per-user values (lists not read to their end). */
  dropFullMrr: boolean;
}

/** Builds the {@link EvaluationResult} of an evaluation from its accumulators (internal). */
export function assembleEvaluationResult(parts: EvaluationParts): EvaluationResult {
  const { accuracy, beyond } = parts;
  const perUser = accuracy.perUserValues();
  const metrics = accuracy.means();
  if (parts.dropFullMrr) {
    delete metrics['mrr@full'];
    if (perUser !== undefined) delete perUser['mrr@full'];
  }
  return {
    kind: 'genrec-evaluation',
    formatVersion: 1,
    system: parts.system ?? null,
    protocol: parts.protocol,
    beyondAccuracyProtocol: beyond?.protocol() ?? null,
    userCount: parts.userCount,
    evaluatedUserCount: accuracy.evaluatedUsers,
    skippedUserCount: accuracy.skippedUsers,
    metrics,
    beyondAccuracy: beyond?.means() ?? null,
    decoding: parts.decoding,
    exposure: parts.exposure,
    perUser: perUser === undefined ? null : { ...perUser, ...(beyond?.perUserValues() ?? {}) },
  };
}
