import { GenrecError, checkEnumOption, checkNumberOption } from '@genrec/core';
import { ops, type SymbolicTensor } from '@genrec/nn';

/** The preference losses of {@link buildPreferenceLoss}. */
export type PreferenceLoss = 'dpo' | 'cdpo' | 'ipo' | 'sdpo';

/** Every preference loss, for validation and documentation. */
export const PREFERENCE_LOSSES: readonly PreferenceLoss[] = ['dpo', 'cdpo', 'ipo', 'sdpo'];

/** Options of {@link buildPreferenceLoss}. */
export interface PreferenceLossOptions {
  /** Which loss. @defaultValue 'dpo' */
  loss?: PreferenceLoss;
  /** β: the strength of the implicit KL penalty (DPO's temperature; IPO's target margin is 1/(2β)). @defaultValue 0.1 */
  beta?: number;
  /** ε of `'cdpo'` (conservative DPO): the assumed share of flipped labels, in [0, 0.5). Ignored by the others. @defaultValue 0.1 */
  labelSmoothing?: number;
}

/** The resolved loss options. */
export interface ResolvedPreferenceLoss {
  loss: PreferenceLoss;
  beta: number;
  labelSmoothing: number;
}

/**
 * Checks and fills in {@link PreferenceLossOptions}.
 *
 * @param options - the loss options
 * @returns the options with defaults
 * @throws GenrecError `INVALID_OPTION` for an unknown loss, β not in (0, 1000], ε not in [0, 0.5).
 * @example
 * ```ts
 * resolvePreferenceLoss({ loss: 'ipo', beta: 0.5 }); // { loss: 'ipo', beta: 0.5, labelSmoothing: 0.1 }
 * ```
 */
export function resolvePreferenceLoss(options: PreferenceLossOptions = {}): ResolvedPreferenceLoss {
  return {
    loss: checkEnumOption(options.loss ?? 'dpo', 'loss', PREFERENCE_LOSSES),
    beta: checkNumberOption(options.beta ?? 0.1, 'beta', 0, 1000, { minimumExclusive: true }),
    labelSmoothing: checkNumberOption(options.labelSmoothing ?? 0.1, 'labelSmoothing', 0, 0.5, { maximumExclusive: true }),
  };
}

/** log σ(z) elementwise for `[users, pairs]`, as the first entry of log-softmax([z, 0]) (stable, smooth at 0). */
function logSigmoid(z: SymbolicTensor): SymbolicTensor {
  const [users, pairs] = z.shape as [number, number];
  const column = ops.unsqueeze(z, [2]);
  const both = ops.concat([column, ops.zerosLike(column)], 2);
  return ops.reshape(ops.slice(ops.logSoftmax(both, 2), [0], [1], [2]), [users, pairs]);
}

/**
 * Builds a preference loss in an `@genrec/nn` graph from policy and reference log-probabilities
 * `[users, candidates]` (candidate 0 = chosen, candidates `1 .. J` rejected, `J = candidates - 1`).
 * With `r = log π − log π_ref` and the margin `h_j = r_0 − r_j` of rejected candidate `j`:
 *
 * - `'dpo'`: `mean_{u,j} −log σ(β h_j)` (Rafailov et al. 2023);
 * - `'cdpo'`: `mean_{u,j} −(1−ε) log σ(β h_j) − ε log σ(−β h_j)` (label smoothing ε);
 * - `'ipo'`: `mean_{u,j} (h_j − 1/(2β))²` (Azar et al. 2023);
 * - `'sdpo'`: `mean_u −log σ(−log Σ_j exp(−β h_j))` (S-DPO, several rejected at once), computed as
 *   `log(1 + Σ_j exp(−β h_j))`.
 *
 * With one rejected candidate S-DPO equals DPO. Every `log σ` is a log-softmax over `[z, 0]`, stable
 * for any `z` and smooth at `z = 0` (where policy = reference). Works in float32 and float64.
 *
 * @param policy - log π(candidate | history) of the model being trained, `[users, candidates]`
 * @param reference - the frozen reference's log-probabilities, same shape and dtype (no gradient flows into it)
 * @param options - loss, β and ε
 * @returns the scalar loss (mean over users, and over rejected candidates for DPO, cDPO and IPO)
 * @throws GenrecError `SHAPE_MISMATCH` unless both are `[users, candidates]` with `candidates >= 2`;
 * `INVALID_OPTION` for bad options.
 * @example
 * ```ts
 * const g = new Graph();
 * const policy = g.input('policy', 'float32', [8, 2]);
 * const reference = g.input('reference', 'float32', [8, 2]);
 * const loss = buildPreferenceLoss(policy, reference, { loss: 'dpo', beta: 0.1 });
 * ```
 */
export function buildPreferenceLoss(policy: SymbolicTensor, reference: SymbolicTensor, options: PreferenceLossOptions = {}): SymbolicTensor {
  const { loss, beta, labelSmoothing } = resolvePreferenceLoss(options);
  if (policy.rank !== 2 || reference.rank !== 2 || policy.shape[0] !== reference.shape[0] || policy.shape[1] !== reference.shape[1] || policy.shape[1]! < 2) {
    throw new GenrecError(
      'SHAPE_MISMATCH',
      `buildPreferenceLoss: policy and reference must both be [users, candidates] with at least 2 candidates, got [${policy.shape.join(', ')}] and [${reference.shape.join(', ')}]`,
      { details: { field: 'policy' } },
    );
  }
  const candidates = policy.shape[1]!;
  const ratio = ops.sub(policy, ops.stopGradient(reference));
  const chosen = ops.slice(ratio, [0], [1], [1]); // [users, 1]
  const rejected = ops.slice(ratio, [1], [candidates], [1]); // [users, J]
  const margin = ops.sub(chosen, rejected); // h, [users, J]
  switch (loss) {
    case 'dpo':
      return ops.neg(ops.reduceMean(logSigmoid(ops.mul(margin, beta))));
    case 'cdpo': {
      const agree = ops.mul(logSigmoid(ops.mul(margin, beta)), 1 - labelSmoothing);
      const flipped = ops.mul(logSigmoid(ops.mul(margin, -beta)), labelSmoothing);
      return ops.neg(ops.reduceMean(ops.add(agree, flipped)));
    }
    case 'ipo': {
      const gap = ops.sub(margin, 1 / (2 * beta));
      return ops.reduceMean(ops.mul(gap, gap));
    }
    case 'sdpo': {
      // log(1 + Σ_j exp(s_j)) with s_j = −β h_j: minus the first entry of log-softmax([0, s_1 .. s_J])
      const scaled = ops.mul(margin, -beta);
      const withZero = ops.concat([ops.zerosLike(chosen), scaled], 1);
      return ops.neg(ops.reduceMean(ops.slice(ops.logSoftmax(withZero, 1), [0], [1], [1])));
    }
  }
}

/**
 * Mixes a preference loss with the model's own supervised loss: `preference + λ · supervised`.
 * `λ` may be a number or a scalar graph input (so one compiled graph can run both kinds of step).
 *
 * @param preference - the scalar preference loss ({@link buildPreferenceLoss})
 * @param supervised - the scalar supervised loss (`PreferenceModel.buildSupervisedLoss`)
 * @param weight - λ, a number ≥ 0 or a scalar tensor
 * @param preferenceWeight - the preference loss's own weight (a number or scalar tensor). @defaultValue 1
 * @returns the scalar training loss
 * @throws GenrecError `INVALID_OPTION` for a negative or non-finite numeric weight.
 * @example
 * ```ts
 * const total = mixSupervisedLoss(buildPreferenceLoss(policy, reference), hook.buildSupervisedLoss(g, { users: 8 }), 0.5);
 * ```
 */
export function mixSupervisedLoss(
  preference: SymbolicTensor,
  supervised: SymbolicTensor,
  weight: number | SymbolicTensor,
  preferenceWeight: number | SymbolicTensor = 1,
): SymbolicTensor {
  if (typeof weight === 'number') checkNumberOption(weight, 'supervisedWeight', 0);
  if (typeof preferenceWeight === 'number') checkNumberOption(preferenceWeight, 'preferenceWeight', 0);
  return ops.add(ops.mul(preference, preferenceWeight), ops.mul(supervised, weight));
}
