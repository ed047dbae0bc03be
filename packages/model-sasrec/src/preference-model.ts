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
import { buildSasrecEncoder, lastHidden } from './sasrec-graph.js';
import { SasrecModel } from './sasrec-model.js';

/** Input names of the preference hook's graphs (distinct, so both builders can share one graph). */
export const PREFERENCE_INPUTS = {
  logProbSeq: 'preference.seq',
  candidates: 'preference.candidates',
  supervisedSeq: 'supervised.seq',
  targets: 'supervised.targets',
} as const;

/**
 * The preference hook (`@genrec/nn`'s `PreferenceModel`) of a fitted SASRec model, through which
 * `@genrec/dpo` trains it.
 *
 * - `buildLogProb`: log π(candidate | history) = log-softmax over **all** `itemCount` items of the
 *   last position's logits, gathered at the candidates: `[users, candidates]`. Inputs
 *   `preference.seq` int64 `[users, maxLength]` and `preference.candidates` int64
 *   `[users, candidates]` (item ids).
 * - `buildSupervisedLoss`: the model's own full-softmax cross-entropy of the next item at the last
 *   position, averaged over users. Inputs `supervised.seq` and `supervised.targets` int64 `[users]`.
 *
 * Both builders declare the same parameters (the model's `@genrec/nn` names, initial values = the
 * model's weights) and reuse them when the graph already has them, so one graph can hold both.
 * Dropout follows `graph.training` (a `training: false` graph gives the reference log-probs).
 * Histories longer than `maxLength` are cut to their most recent items; an empty history is an
 * all-padding row (the graph has no popularity fallback).
 *
 * @param model - a fitted (or loaded) SASRec model.
 * @returns the hook; `withParameters` returns a new `SasrecModel` (same spec, catalogue, fallback
 * and retired items) holding the given values (the others unchanged).
 * @example
 * ```ts
 * const hook = sasrecPreferenceModel(model);
 * const g = new Graph({ training: false });
 * const logp = hook.buildLogProb(g, { users: 4, candidates: 2 });
 * ```
 */
export function sasrecPreferenceModel(model: SasrecModel): PreferenceModel {
  if (!(model instanceof SasrecModel)) throw new GenrecError('INVALID_INPUT', 'sasrecPreferenceModel takes a SasrecModel', { details: { field: 'model' } });
  const architecture = model.architecture;
  const { itemCount, maxLength } = architecture;
  const values = model.parameterMap;
  const inputs = { itemCount, maxLength, names: PREFERENCE_INPUTS };
  const encode = (g: Graph, seq: SymbolicTensor, users: number) => {
    const encoder = buildSasrecEncoder(g, architecture, seq, values);
    return ops.gemm(lastHidden(encoder, architecture, users), encoder.table, { transB: true });
  };
  return {
    kind: model.kind,
    itemCount,
    maxHistoryLength: maxLength,
    tokensPerItem: 1,
    buildLogProb(g: Graph, shape: PreferenceShape): SymbolicTensor {
      checkPreferenceShape(shape, ['users', 'candidates'], 'buildLogProb');
      const { users, candidates } = shape;
      const seq = g.input(PREFERENCE_INPUTS.logProbSeq, 'int64', [users, maxLength]);
      const ids = g.input(PREFERENCE_INPUTS.candidates, 'int64', [users, candidates]);
      const logp = ops.reshape(ops.logSoftmax(encode(g, seq, users), -1), [users * itemCount]);
      const rowOffsets = new BigInt64Array(users);
      for (let u = 0; u < users; u++) rowOffsets[u] = BigInt(u * itemCount - 1);
      const flat = ops.add(ids, g.constant(rowOffsets, [users, 1], 'int64'));
      return ops.gather(logp, flat);
    },
    buildSupervisedLoss(g: Graph, shape: SupervisedShape): SymbolicTensor {
      checkPreferenceShape(shape, ['users'], 'buildSupervisedLoss');
      const { users } = shape;
      const seq = g.input(PREFERENCE_INPUTS.supervisedSeq, 'int64', [users, maxLength]);
      const targets = g.input(PREFERENCE_INPUTS.targets, 'int64', [users]);
      return ops.softmaxCrossEntropy(encode(g, seq, users), ops.sub(targets, 1), { ignoreIndex: -101 });
    },
    logProbFeeds: (histories, candidates, shape) => itemLogProbFeeds(histories, candidates, shape, inputs),
    supervisedFeeds: (histories, targets, shape) => itemSupervisedFeeds(histories, targets, shape, inputs),
    parameterValues: () => model.parameterValues(),
    async withParameters(next) {
      const merged = mergeParameterValues(model.parameterValues(), next);
      return new SasrecModel({
        spec: model.spec,
        itemCount,
        parameters: merged,
        popularity: model.itemPopularity(),
        dataFingerprint: model.dataFingerprint,
        training: model.training,
        retiredItems: model.retiredItems,
        ...(model.externalItemIds ? { externalItemIds: model.externalItemIds } : {}),
        ...(model.catalog ? { catalog: model.catalog } : {}),
      });
    },
  };
}
