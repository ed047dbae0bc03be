import { GenrecError } from '@genrec/core';
import {
  checkPreferenceShape,
  itemLogProbFeeds,
  itemSupervisedFeeds,
  mergeParameterValues,
  ops,
  type Graph,
  type PreferenceModel,
  type PreferenceShape,
  type SupervisedShape,
  type SymbolicTensor,
} from '@genrec/nn';
import { batchReconstructionLoss, queryVectors, slotCount, slotCrossEntropy, slotLogits, tokenTable } from './setrec-graph.js';
import { SetrecModel } from './setrec-model.js';

/** Input names of the preference hook's graphs (distinct, so both builders can share one graph). */
export const SETREC_PREFERENCE_INPUTS = {
  logProbSeq: 'preference.seq',
  candidates: 'preference.candidates',
  supervisedSeq: 'supervised.seq',
  targets: 'supervised.targets',
} as const;

/**
 * The preference hook (`@genrec/nn`'s `PreferenceModel`) of a fitted continuous SETRec model,
 * through which `@genrec/dpo` trains it.
 *
 * - `buildLogProb`: log π(candidate | history) = `Σ_s w_s · log-softmax_s(<q_s, v_s(candidate)>)`,
 *   each slot's softmax over **all** `itemCount` items, `w = [1 − β, β, …, β]` with the model's β
 *   (the same numbers as `score()`): `[users, candidates]`. Inputs `preference.seq` int64
 *   `[users, maxLength]` and `preference.candidates` int64 `[users, candidates]` (item ids).
 * - `buildSupervisedLoss`: the model's own loss for the next item after each history: the mean
 *   over the n+1 queries of the full-softmax cross-entropy + α · the autoencoder's reconstruction
 *   MSE over the histories' items. Inputs `supervised.seq` and `supervised.targets` int64 `[users]`.
 *
 * Both builders declare the model's parameters (initial values = the model's weights; the
 * autoencoder and the CF projection train too) and reuse them when the graph already has them, so
 * one graph can hold both; the frozen CF vectors and the content vectors are graph constants.
 * Dropout follows `graph.training`. Histories longer than `maxLength` are cut to their most recent
 * items; an empty history is an all-padding row (the graph has no popularity fallback).
 *
 * @param model - a fitted (or loaded) continuous SETRec model.
 * @returns the hook; `withParameters` returns a new `SetrecModel` (same spec, β, item inputs,
 * fallback and retired items) holding the given values (the others unchanged).
 * @throws GenrecError `INVALID_INPUT` for something other than a `SetrecModel`, `UNSUPPORTED` for a discrete one.
 * @example
 * ```ts
 * const hook = setrecPreferenceModel(model);
 * const g = new Graph({ training: false });
 * const logp = hook.buildLogProb(g, { users: 4, candidates: 2 });
 * ```
 */
export function setrecPreferenceModel(model: SetrecModel): PreferenceModel {
  if (!(model instanceof SetrecModel)) throw new GenrecError('INVALID_INPUT', 'setrecPreferenceModel takes a SetrecModel', { details: { field: 'model' } });
  if (model.variant === 'discrete') throw new GenrecError('UNSUPPORTED', 'the preference hook trains the continuous model; discretize after alignment', { details: { field: 'model' } });
  const a = model.architecture;
  const { itemCount, maxLength } = a;
  const slots = slotCount(a);
  const values = model.parameterMap;
  const inputs = { itemCount, maxLength, names: SETREC_PREFERENCE_INPUTS };
  const { cf, content } = model.internals;
  const weights = model.slotWeights();
  const queriesOf = (g: Graph, seq: SymbolicTensor): SymbolicTensor => {
    tokenTable(g, a, values, { cf, content });
    return queryVectors(g, a, seq, false, values); // [users, slots, d]
  };
  return {
    kind: model.kind,
    itemCount,
    maxHistoryLength: maxLength,
    tokensPerItem: slots,
    buildLogProb(g: Graph, shape: PreferenceShape): SymbolicTensor {
      checkPreferenceShape(shape, ['users', 'candidates'], 'buildLogProb');
      const { users, candidates } = shape;
      const seq = g.input(SETREC_PREFERENCE_INPUTS.logProbSeq, 'int64', [users, maxLength]);
      const ids = g.input(SETREC_PREFERENCE_INPUTS.candidates, 'int64', [users, candidates]);
      const logp = ops.logSoftmax(slotLogits(g, a, queriesOf(g, seq), values), -1); // [slots, users, N]
      const weighted = ops.reduceSum(ops.mul(logp, g.constant(weights, [slots, 1, 1], 'float32')), [0]); // [users, N]
      const rowOffsets = new BigInt64Array(users);
      for (let u = 0; u < users; u++) rowOffsets[u] = BigInt(u * itemCount - 1);
      return ops.gather(ops.reshape(weighted, [users * itemCount]), ops.add(ids, g.constant(rowOffsets, [users, 1], 'int64')));
    },
    buildSupervisedLoss(g: Graph, shape: SupervisedShape): SymbolicTensor {
      checkPreferenceShape(shape, ['users'], 'buildSupervisedLoss');
      const { users } = shape;
      const seq = g.input(SETREC_PREFERENCE_INPUTS.supervisedSeq, 'int64', [users, maxLength]);
      const targets = g.input(SETREC_PREFERENCE_INPUTS.targets, 'int64', [users]);
      const crossEntropy = slotCrossEntropy(g, a, queriesOf(g, seq), ops.sub(targets, 1), undefined, -101, values);
      return a.alpha === 0 ? crossEntropy : ops.add(crossEntropy, ops.mul(batchReconstructionLoss(g, a, seq, values), a.alpha));
    },
    logProbFeeds: (histories, candidates, shape) => itemLogProbFeeds(histories, candidates, shape, inputs),
    supervisedFeeds: (histories, targets, shape) => itemSupervisedFeeds(histories, targets, shape, inputs),
    parameterValues: () => model.parameterValues(),
    async withParameters(next) {
      const merged = mergeParameterValues(model.parameterValues(), next);
      return new SetrecModel({
        spec: model.spec,
        architecture: a,
        parameters: merged,
        cfVectors: cf.slice(),
        content: content.slice(),
        popularity: model.itemPopularity(),
        beta: model.beta,
        dataFingerprint: model.dataFingerprint,
        training: model.training,
        retiredItems: model.retiredItems,
        ...(model.externalItemIds ? { externalItemIds: model.externalItemIds } : {}),
        ...(model.catalog ? { catalog: model.catalog } : {}),
      });
    },
  };
}
