import type { HistoryBatch, Recommender } from '@genrec/core';
import type { Graph, SymbolicTensor } from '../graph/graph.js';
import type { AnyTypedArray } from '../onnx/proto.js';

/**
 * The static shape of a preference batch: `users` histories, each with `candidates` candidate
 * items (for DPO: candidate 0 = chosen, the others rejected).
 */
export interface PreferenceShape {
  /** Users (histories) in the batch. */
  users: number;
  /** Candidates scored per user. */
  candidates: number;
}

/** The static shape of a supervised batch: `users` histories with one next-item target each. */
export interface SupervisedShape {
  /** Users (histories) in the batch. */
  users: number;
}

/**
 * The hook through which preference alignment (`@genrec/dpo`) trains any genrec model. A fitted
 * model package returns one from its `preferenceModel(model)` function. The alignment package
 * builds one `@genrec/nn` training graph from the two builders (policy log-probabilities and the
 * model's own supervised loss), trains it with {@link Trainer} starting from
 * {@link PreferenceModel.parameterValues}, computes reference log-probabilities with the same
 * builder in a dropout-free graph (`new Graph({ training: false })`), and turns the trained values
 * back into a model with {@link PreferenceModel.withParameters}.
 *
 * **Normalisation of log π.** `buildLogProb` returns log π(candidate | history) under the model's
 * full softmax over its whole output vocabulary (never a sampled softmax):
 * - SASRec: the log-softmax over all catalogue items of the last position's logits;
 * - TIGER-style generative models: the sum over the candidate's code tokens of each token's
 *   log-softmax over the full token vocabulary (teacher forcing on the candidate's own prefix);
 * - SETRec: Σ_s w_s · log-softmax over all items of slot s's scores, with the model's slot weights `w`.
 *
 * Parameter names are the graph names the builders declare with `graph.parameter`; both builders
 * declare the same parameters with the same shapes as `parameterValues` returns.
 *
 * **Token level.** Token-level generative models may also implement the optional
 * `buildTokenLogits`, `vocabularySize` and `tokenMask` (the per-position next-token logits and the
 * tokens their constrained decoding allows); `@genrec/dpo` then measures its KL diagnostic over
 * the constrained next-token distributions instead of the item softmax.
 */
export interface PreferenceModel {
  /** The model kind (`'sasrec'`, `'tiger'`…). */
  readonly kind: string;
  /** Catalogue size: candidate ids are `1 .. itemCount`. */
  readonly itemCount: number;
  /** Longest history the graphs read (longer histories are cut to their most recent items). */
  readonly maxHistoryLength: number;
  /** Tokens per item in `log π` (1 for item-level models, the code length for generative ones). */
  readonly tokensPerItem: number;
  /**
   * Declares the model's parameters and inputs in `graph` and returns log π(candidate | history)
   * as a float32 `[users, candidates]` tensor. Dropout follows `graph.training`.
   */
  buildLogProb(graph: Graph, shape: PreferenceShape): SymbolicTensor;
  /**
   * Width of {@link PreferenceModel.buildTokenLogits}' logits and of {@link PreferenceModel.tokenMask}'s
   * rows: the model's token vocabulary. Token-level models only (with `buildTokenLogits`).
   */
  readonly vocabularySize?: number;
  /**
   * Token-level models only (optional; item-level models such as SASRec or SETRec leave it out):
   * declares the model's parameters and inputs in `graph` and returns the next-token logits at each
   * of a candidate's `tokensPerItem` positions, teacher-forced on the candidate's own prefix (the
   * logits whose log-softmax at the candidate's tokens `buildLogProb` sums), as a float32
   * `[users, candidates, tokensPerItem, vocabularySize]` tensor. It reads the same inputs, fed by
   * {@link PreferenceModel.logProbFeeds}, and declares and shares the parameters the same way as
   * `buildLogProb`, so one graph can hold both. Dropout follows `graph.training`.
   *
   * @param graph - the graph to build in
   * @param shape - users and candidates per run
   * @returns the logits, `[users, candidates, tokensPerItem, vocabularySize]`
   * @example
   * ```ts
   * const g = new Graph({ training: false });
   * const logits = hook.buildTokenLogits?.(g, { users: 64, candidates: 1 }); // feeds: hook.logProbFeeds(…)
   * ```
   */
  buildTokenLogits?(graph: Graph, shape: PreferenceShape): SymbolicTensor;
  /**
   * Token-level models only (with `buildTokenLogits`): for each candidate and each of its
   * `tokensPerItem` positions, the tokens the model's constrained decoding allows after the
   * candidate's own prefix (1 = allowed, 0 = not): `[candidates.length, tokensPerItem,
   * vocabularySize]`, row-major. A position whose prefix leads to no item (e.g. past the point
   * where a retired item leaves the catalogue) has an all-zero row.
   *
   * @param candidates - item ids
   * @returns the mask, `candidates.length x tokensPerItem x vocabularySize`
   * @example
   * ```ts
   * const mask = hook.tokenMask?.(Int32Array.of(42)); // mask[l * vocabularySize + t] = 1 when token t may follow item 42's first l tokens
   * ```
   */
  tokenMask?(candidates: Int32Array): Uint8Array;
  /** Declares the model's parameters and inputs and returns its own (scalar) supervised loss. */
  buildSupervisedLoss(graph: Graph, shape: SupervisedShape): SymbolicTensor;
  /**
   * The feeds of `buildLogProb` for a batch: `histories` holds `shape.users` users, `candidates`
   * is `users x candidates` item ids, row-major.
   */
  logProbFeeds(histories: HistoryBatch, candidates: Int32Array, shape: PreferenceShape): Record<string, AnyTypedArray>;
  /** The feeds of `buildSupervisedLoss`: `targets` holds one next item per user. */
  supervisedFeeds(histories: HistoryBatch, targets: Int32Array, shape: SupervisedShape): Record<string, AnyTypedArray>;
  /** The current trained values of every parameter, by graph name (copies). */
  parameterValues(): Map<string, Float32Array>;
  /** A fitted model of the same kind holding these parameter values (the others unchanged). */
  withParameters(values: ReadonlyMap<string, Float32Array>): Promise<Recommender>;
}
