import { GenrecError } from '@genrec/core';

/**
 * Per-batch preference diagnostics under TRL's names (`DPOTrainer` logs), for log-probabilities
 * `[users, candidates]` with candidate 0 chosen and the others rejected. Each rejected candidate
 * forms one pair with its user's chosen one.
 */
export interface PreferenceDiagnostics {
  /** Mean over users of β (log π(chosen) − log π_ref(chosen)). */
  'rewards/chosen': number;
  /** Mean over pairs of β (log π(rejected) − log π_ref(rejected)). */
  'rewards/rejected': number;
  /** Share of pairs whose chosen reward is strictly above the rejected one. */
  'rewards/accuracies': number;
  /** Mean over pairs of the chosen reward minus the rejected reward. */
  'rewards/margins': number;
  /** Mean over users of log π(chosen). */
  'logps/chosen': number;
  /** Mean over pairs of log π(rejected). */
  'logps/rejected': number;
}

/**
 * Computes {@link PreferenceDiagnostics} in float64 from policy and reference log-probabilities.
 *
 * @param policy - log π, `users x candidates` row-major
 * @param reference - log π_ref, same layout
 * @param candidates - candidates per user (≥ 2)
 * @param beta - β of the loss
 * @returns the six TRL diagnostics
 * @throws GenrecError `SHAPE_MISMATCH` when the arrays do not hold whole rows of `candidates`.
 * @example
 * ```ts
 * preferenceDiagnostics([-1, -3], [-2, -2], 2, 0.1); // rewards/chosen 0.1, rewards/rejected -0.1, margins 0.2
 * ```
 */
export function preferenceDiagnostics(policy: ArrayLike<number>, reference: ArrayLike<number>, candidates: number, beta: number): PreferenceDiagnostics {
  if (!Number.isSafeInteger(candidates) || candidates < 2 || policy.length !== reference.length || policy.length % candidates !== 0 || policy.length === 0) {
    throw new GenrecError('SHAPE_MISMATCH', `preferenceDiagnostics: ${policy.length} policy and ${reference.length} reference values for rows of ${candidates} candidates`, {
      details: { field: 'policy' },
    });
  }
  const users = policy.length / candidates;
  let chosenReward = 0;
  let chosenLogp = 0;
  let rejectedReward = 0;
  let rejectedLogp = 0;
  let accurate = 0;
  let margins = 0;
  for (let u = 0; u < users; u++) {
    const base = u * candidates;
    const chosen = beta * (policy[base]! - reference[base]!);
    chosenReward += chosen;
    chosenLogp += policy[base]!;
    for (let j = 1; j < candidates; j++) {
      const rejected = beta * (policy[base + j]! - reference[base + j]!);
      rejectedReward += rejected;
      rejectedLogp += policy[base + j]!;
      margins += chosen - rejected;
      if (chosen > rejected) accurate++;
    }
  }
  const pairs = users * (candidates - 1);
  return {
    'rewards/chosen': chosenReward / users,
    'rewards/rejected': rejectedReward / pairs,
    'rewards/accuracies': accurate / pairs,
    'rewards/margins': margins / pairs,
    'logps/chosen': chosenLogp / users,
    'logps/rejected': rejectedLogp / pairs,
  };
}

/**
 * The mean over users of KL(π ‖ π_ref) = Σ_i π(i) (log π(i) − log π_ref(i)) over the catalogue,
 * from log-probabilities of every item `users x items` (each row renormalised over the given items
 * first, so a generative model's mass on non-existent ids is left out).
 *
 * @param policy - log π, `users x items` row-major
 * @param reference - log π_ref, same layout
 * @param items - items per row
 * @returns the mean KL in nats (0 when policy = reference)
 * @throws GenrecError `SHAPE_MISMATCH` when the arrays do not hold whole rows.
 * @example
 * ```ts
 * klDivergence([Math.log(0.5), Math.log(0.5)], [Math.log(0.9), Math.log(0.1)], 2); // 0.5 ln(0.5/0.9) + 0.5 ln(0.5/0.1)
 * ```
 */
export function klDivergence(policy: ArrayLike<number>, reference: ArrayLike<number>, items: number): number {
  if (!Number.isSafeInteger(items) || items < 1 || policy.length !== reference.length || policy.length % items !== 0 || policy.length === 0) {
    throw new GenrecError('SHAPE_MISMATCH', `klDivergence: ${policy.length} policy and ${reference.length} reference values for rows of ${items} items`, { details: { field: 'policy' } });
  }
  const users = policy.length / items;
  let total = 0;
  for (let u = 0; u < users; u++) total += rowKlDivergence(policy, reference, u * items, items);
  return total / users;
}

/**
 * KL(π ‖ π_ref) of one row: the softmax of `policy[from .. from + count)` against that of
 * `reference` over the same entries (each renormalised over them), in nats, clamped at 0.
 * @internal
 */
export function rowKlDivergence(policy: ArrayLike<number>, reference: ArrayLike<number>, from: number, count: number): number {
  const p = logNormaliser(policy, from, count);
  const q = logNormaliser(reference, from, count);
  let kl = 0;
  for (let i = from; i < from + count; i++) {
    const logP = policy[i]! - p;
    kl += Math.exp(logP) * (logP - (reference[i]! - q));
  }
  return Math.max(0, kl);
}

function logNormaliser(values: ArrayLike<number>, from: number, count: number): number {
  let top = -Infinity;
  for (let i = from; i < from + count; i++) top = Math.max(top, values[i]!);
  let sum = 0;
  for (let i = from; i < from + count; i++) sum += Math.exp(values[i]! - top);
  return top + Math.log(sum);
}
