import { GenrecError, batchSize, toHistoryBatch, type HistoryBatch } from '@genrec/core';
import { checkPreferenceShape, ops, type Graph, type PreferenceModel, type PreferenceShape, type SupervisedShape, type SymbolicTensor } from '@genrec/nn';
import type { PrefixTrie } from '@genrec/decoder';
import { candidateLogProbGraph, candidateTokenLogitsGraph, logProbInputNames } from './graphs.js';
import { TigerModel } from './tiger-model.js';

/** Input prefixes of the preference hook's graphs (distinct, so both builders can share one graph). */
export const TIGER_PREFERENCE_INPUTS = {
  /** `preference.tokens`, `preference.target` (encoder-decoder), `preference.labels`. */
  logProb: logProbInputNames('preference'),
  /** `supervised.tokens`, `supervised.target` (encoder-decoder), `supervised.labels`. */
  supervised: logProbInputNames('supervised'),
} as const;

/**
 * Runs `body` so that the graph's `parameter` returns the tensor it already holds under the same
 * (scoped) name instead of declaring a second one: the second model built in one graph shares the
 * first one's parameters (and their gradients).
 */
function sharingParameters<T>(g: Graph, body: () => T): T {
  const existing = new Map(g.parameters.map((p) => [p.tensor.name, p.tensor]));
  if (existing.size === 0) return body();
  const declare = g.parameter;
  const shared: Graph['parameter'] = (name, shape, initializer, dtype) => {
    const found = existing.get(g.scoped(name));
    if (found === undefined) return declare.call(g, name, shape, initializer, dtype);
    if (found.shape.join(',') !== shape.join(',')) {
      throw new GenrecError('SHAPE_MISMATCH', `parameter ${found.name} is [${found.shape.join(', ')}] in the graph, [${shape.join(', ')}] here`, { details: { field: found.name } });
    }
    return found;
  };
  Object.defineProperty(g, 'parameter', { value: shared, configurable: true, writable: true });
  try {
    return body();
  } finally {
    delete (g as unknown as Record<string, unknown>).parameter;
  }
}

/**
 * The preference hook (`@genrec/nn`'s `PreferenceModel`) of a fitted TIGER model, through which
 * `@genrec/dpo` trains it.
 *
 * - `buildLogProb`: log π(candidate | history) = the sum over the candidate's code tokens of each
 *   token's log-softmax over the full token vocabulary, with teacher forcing on the candidate's
 *   own prefix (exactly `TigerModel.score` without the `renormalize` option; with it, `score`
 *   normalises over the trie's allowed tokens instead — {@link tigerPreferenceModel}'s `tokenMask`
 *   gives those tokens): `[users, candidates]`. Inputs (see
 *   {@link TIGER_PREFERENCE_INPUTS}) `preference.tokens` — decoder-only: `[users x candidates,
 *   maxHistory x tokensPerItem + tokensPerItem - 1]`, the left-padded context then the candidate's
 *   tokens but the last; encoder-decoder: `[users x candidates, maxHistory x tokensPerItem]`, the
 *   right-padded source, with `preference.target` `[users x candidates, tokensPerItem]` (BOS then
 *   the tokens but the last) — and `preference.labels` `[users x candidates x tokensPerItem]`.
 * - `buildSupervisedLoss`: the model's own next-item loss, `-mean log π(target | history)` over
 *   users (the training loss of the last item), inputs `supervised.*` (one candidate per user).
 * - `buildTokenLogits`: the logits whose log-softmax `buildLogProb` picks, before the log-softmax:
 *   `[users, candidates, tokensPerItem, vocabularySize]` (position `l` predicts the candidate's
 *   token `l`, teacher-forced on its tokens `0 .. l - 1`), same inputs and feeds as `buildLogProb`
 *   (one graph can hold both: the inputs are shared too). `vocabularySize` is the model's
 *   vocabulary (the layout's tokens, then the item tokens, which are never allowed).
 * - `tokenMask`: for each candidate and position, the tokens the beam search's prefix trie allows
 *   after the candidate's first `l` tokens (the trie of the items with a semantic id, less those
 *   retired when the hook was made, built once on first use; the same tokens as `codes.writeTokens`
 *   and the logits' vocabulary). A retired candidate's own token is not allowed where its prefix
 *   leaves the trie, and the rows after that (prefixes no item has) are all zero. The constraint
 *   is the trie only: the history exclusion and the added-item adjustment of `recommend` are not
 *   part of it.
 *
 * Both builders declare the model's parameters (its `@genrec/nn` names; initial values = the
 * model's weights) and reuse them when the graph already has them, so one graph can hold both.
 * Dropout follows `graph.training`. Histories are cut to their last `maxHistory` items with a
 * semantic id; a user must have one (the graph has no popularity fallback).
 *
 * @param model - a fitted (or loaded) TIGER model
 * @returns the hook; `withParameters` returns a new `TigerModel` (same spec, ids, fallback and
 * retired items) holding the given values (the others unchanged)
 * @throws GenrecError `INVALID_INPUT` when `model` is not a `TigerModel` (and from `tokenMask`,
 * for a candidate without a semantic id).
 * @example
 * ```ts
 * const hook = tigerPreferenceModel(model);
 * const g = new Graph({ training: false });
 * const logp = hook.buildLogProb(g, { users: 4, candidates: 2 });
 * ```
 */
export function tigerPreferenceModel(model: TigerModel): PreferenceModel {
  if (!(model instanceof TigerModel)) throw new GenrecError('INVALID_INPUT', 'tigerPreferenceModel takes a TigerModel', { details: { field: 'model' } });
  const spec = model.spec;
  const shape = model.shape;
  const codes = model.codes;
  const width = shape.tokensPerItem;
  const contextWidth = shape.contextWidth;
  const contextLength = spec.maxHistory * contextWidth;
  const values = model.parameterMap;
  const decoderOnly = spec.architecture === 'decoder-only';
  const build = (g: Graph, rows: number, prefix: string, graph = candidateLogProbGraph): SymbolicTensor => {
    const out = sharingParameters(g, () => graph(g, spec, shape, rows, contextLength, prefix));
    for (const parameter of g.parameters) {
      const value = values.get(parameter.tensor.name);
      if (value !== undefined && value.length === parameter.initial.length) parameter.initial.set(value);
    }
    return out;
  };
  // the constrained decoding's trie (the items with an id, less those retired when the hook was made), built on first use
  const retired = new Set(model.retiredItems);
  let trie: PrefixTrie | undefined;
  const v = shape.vocabularySize;
  const feeds = (histories: HistoryBatch, candidates: Int32Array, users: number, perUser: number, prefix: string): Record<string, BigInt64Array> => {
    const names = logProbInputNames(prefix);
    if (batchSize(histories) !== users) throw new GenrecError('INVALID_INPUT', `histories hold ${batchSize(histories)} users, the shape ${users}`, { details: { field: 'histories' } });
    if (candidates.length !== users * perUser) throw new GenrecError('INVALID_INPUT', `candidates hold ${candidates.length} ids, the shape needs ${users * perUser}`, { details: { field: 'candidates' } });
    const rows = users * perUser;
    const length = decoderOnly ? contextLength + width - 1 : contextLength;
    const tokens = new BigInt64Array(rows * length);
    const target = new BigInt64Array(rows * width);
    const labels = new BigInt64Array(rows * width);
    const context = new Int32Array(contextLength);
    const item = new Int32Array(width);
    const bos = BigInt(codes.layout.specialTokens.bos ?? 1);
    for (let u = 0; u < users; u++) {
      // the last maxHistory items with an id, oldest first
      const kept: number[] = [];
      for (let i = histories.offsets[u + 1]! - 1; i >= histories.offsets[u]! && kept.length < spec.maxHistory; i--) if (codes.has(histories.items[i]!)) kept.unshift(histories.items[i]!);
      if (kept.length === 0) throw new GenrecError('INVALID_INPUT', `user ${u} has no history item with a semantic id`, { details: { field: 'histories', user: u } });
      context.fill(0);
      const start = decoderOnly ? contextLength - kept.length * contextWidth : 0;
      kept.forEach((id, slot) => codes.writeContextTokens(id, context, start + slot * contextWidth));
      for (let c = 0; c < perUser; c++) {
        const row = u * perUser + c;
        const id = candidates[row]!;
        if (!codes.has(id)) throw new GenrecError('INVALID_INPUT', `candidate ${id} (user ${u}) has no semantic id`, { details: { field: 'candidates', user: u } });
        codes.writeTokens(id, item, 0);
        for (let t = 0; t < contextLength; t++) tokens[row * length + t] = BigInt(context[t]!);
        for (let l = 0; l < width; l++) {
          labels[row * width + l] = BigInt(item[l]!);
          if (decoderOnly && l < width - 1) tokens[row * length + contextLength + l] = BigInt(item[l]!);
        }
        if (!decoderOnly) {
          target[row * width] = bos;
          for (let l = 1; l < width; l++) target[row * width + l] = BigInt(item[l - 1]!);
        }
      }
    }
    return decoderOnly ? { [names.tokens]: tokens, [names.labels]: labels } : { [names.tokens]: tokens, [names.target]: target, [names.labels]: labels };
  };
  return {
    kind: model.kind,
    itemCount: model.itemCount,
    maxHistoryLength: spec.maxHistory,
    tokensPerItem: width,
    buildLogProb(g: Graph, preferenceShape: PreferenceShape): SymbolicTensor {
      checkPreferenceShape(preferenceShape, ['users', 'candidates'], 'buildLogProb');
      const { users, candidates } = preferenceShape;
      return ops.reshape(build(g, users * candidates, 'preference'), [users, candidates]);
    },
    vocabularySize: v,
    buildTokenLogits(g: Graph, preferenceShape: PreferenceShape): SymbolicTensor {
      checkPreferenceShape(preferenceShape, ['users', 'candidates'], 'buildTokenLogits');
      const { users, candidates } = preferenceShape;
      return ops.reshape(build(g, users * candidates, 'preference', candidateTokenLogitsGraph), [users, candidates, width, v]);
    },
    tokenMask(candidates: Int32Array): Uint8Array {
      for (let i = 0; i < candidates.length; i++) {
        if (!codes.has(candidates[i]!)) throw new GenrecError('INVALID_INPUT', `tokenMask: candidate ${candidates[i]} (position ${i}) has no semantic id`, { details: { field: 'candidates', position: i } });
      }
      trie ??= codes.buildTrie((id) => retired.has(id));
      const mask = new Uint8Array(candidates.length * width * v);
      const tokens = new Int32Array(width);
      for (let i = 0; i < candidates.length; i++) {
        codes.writeTokens(candidates[i]!, tokens, 0);
        // walk down the candidate's own tokens: each node's children are the allowed next tokens
        let node = trie.walk([]);
        for (let l = 0; l < width && node >= 0; l++) {
          const row = (i * width + l) * v;
          const allowed = trie.childTokens(node);
          for (let a = 0; a < allowed.length; a++) mask[row + allowed[a]!] = 1;
          node = trie.child(node, tokens[l]!);
        }
      }
      return mask;
    },
    buildSupervisedLoss(g: Graph, supervisedShape: SupervisedShape): SymbolicTensor {
      checkPreferenceShape(supervisedShape, ['users'], 'buildSupervisedLoss');
      return ops.neg(ops.reduceMean(build(g, supervisedShape.users, 'supervised')));
    },
    logProbFeeds(histories: HistoryBatch, candidates: Int32Array, preferenceShape: PreferenceShape) {
      checkPreferenceShape(preferenceShape, ['users', 'candidates'], 'logProbFeeds');
      return feeds(toHistoryBatch(histories, model.itemCount), candidates, preferenceShape.users, preferenceShape.candidates, 'preference');
    },
    supervisedFeeds(histories: HistoryBatch, targets: Int32Array, supervisedShape: SupervisedShape) {
      checkPreferenceShape(supervisedShape, ['users'], 'supervisedFeeds');
      return feeds(toHistoryBatch(histories, model.itemCount), targets, supervisedShape.users, 1, 'supervised');
    },
    parameterValues: () => model.parameterValues(),
    async withParameters(updated: ReadonlyMap<string, Float32Array>) {
      return model.withParameters(updated);
    },
  };
}
