import type { EarlyStoppingOptions } from '../contracts/recommender.js';
import { GenrecError } from '../errors.js';
import { checkIntegerOption, checkKnownOptions } from '../options.js';
import type { ValidationMetric } from './validation-users.js';

/** The resolved early-stopping rule of a fit (`undefined` = none). */
export interface ResolvedEarlyStopping extends ValidationMetric {
  /** Epochs without a strict improvement before training stops. */
  patience: number;
  /** Validate on at most this many validation users (a fixed seeded sample); `undefined` = all. */
  sampleUsers: number | undefined;
}

/**
 * Resolves a fit's `earlyStopping` option (core's `EarlyStoppingOptions`): none without
 * validation data or with `earlyStopping: false`, otherwise `{ metric: 'ndcg@10', patience: 3 }`
 * unless given (all validation users unless `sampleUsers`). The default metric's K is capped at
 * the catalogue size. The option is checked even without validation data, so a typo fails on
 * every run. A value that is not an object is left to the caller (each model words that check
 * itself); here it fails in `checkKnownOptions`.
 *
 * @param value - the `earlyStopping` option.
 * @param hasValidation - whether `fit` was given validation data.
 * @param itemCount - the catalogue size (bounds the metric's K).
 * @returns the rule, or `undefined` for none.
 * @throws GenrecError `INVALID_OPTION` for an unknown metric or field, a K above `itemCount`, a bad
 * patience or sample size (`details.field` names it).
 * @example
 * ```ts
 * resolveEarlyStopping(undefined, true, 2000); // { metric: 'ndcg', k: 10, name: 'ndcg@10', patience: 3, sampleUsers: undefined }
 * resolveEarlyStopping({ metric: 'recall@20', patience: 1 }, false, 2000); // undefined (no validation data)
 * ```
 */
export function resolveEarlyStopping(value: EarlyStoppingOptions | false | undefined, hasValidation: boolean, itemCount: number): ResolvedEarlyStopping | undefined {
  if (value === false) return undefined;
  if (value !== undefined) checkKnownOptions(value, ['metric', 'patience', 'sampleUsers'], 'earlyStopping');
  // the default metric is ndcg@10, or ndcg@itemCount for a catalogue of fewer than 10 items
  const name = value?.metric ?? `ndcg@${Math.min(10, itemCount)}`;
  const match = typeof name === 'string' ? /^(ndcg|recall|hitrate)@(\d+)$/.exec(name) : null;
  if (!match) {
    throw new GenrecError('INVALID_OPTION', `earlyStopping.metric must be 'ndcg@K', 'recall@K' or 'hitrate@K', got ${JSON.stringify(name)}`, { details: { field: 'earlyStopping.metric' } });
  }
  const k = checkIntegerOption(Number(match[2]), 'earlyStopping.metric (K)', 1, itemCount);
  const patience = checkIntegerOption(value?.patience ?? 3, 'earlyStopping.patience', 1);
  const sampleUsers = value?.sampleUsers === undefined ? undefined : checkIntegerOption(value.sampleUsers, 'earlyStopping.sampleUsers', 1);
  if (!hasValidation) return undefined;
  return { metric: match[1] as ResolvedEarlyStopping['metric'], k, name, patience, sampleUsers };
}
