/** Encoder input of a {@link StepModel}: a batch of token sequences, row-major `batchSize x length`. */
export interface StepModelInput {
  /** Token ids, `batchSize x length` (left-padded with the layout's pad token). */
  readonly tokens: Int32Array;
  readonly batchSize: number;
  readonly length: number;
}

/**
 * A generative model driven one decoding step at a time. `encode` runs the user context once;
 * the returned session then steps over prefixes, keeping its own cache (e.g. attention keys and
 * values) and reordering it when beams are pruned.
 */
export interface StepModel {
  /** Size of the output vocabulary (logit width). */
  readonly vocabularySize: number;
  /** Encodes a batch of user contexts once. */
  encode(input: StepModelInput): Promise<StepSession>;
  /**
   * Optional: splits a batch into sub-batches (user indices of `input`, each ascending) that the
   * model serves best as separate, concurrent sessions, e.g. one or two per worker thread, users
   * of similar context length together. Decoders that honour it run one search per sub-batch
   * concurrently and return the results in the input's user order; a user's result must not
   * depend on the split.
   */
  splitBatch?(input: StepModelInput): readonly Int32Array[];
}

/**
 * One batch's decoding state. Rows are user-major: with `beamsPerUser` beams, row `r` belongs to
 * user `floor(r / beamsPerUser)`.
 */
export interface StepSession {
  /** Number of users in the batch. */
  readonly batchSize: number;
  /**
   * Feeds one token per row and returns raw logits, `rows x vocabularySize` row-major, where
   * `rows = batchSize * beamsPerUser`. `parents[r]` is the row of the previous step that row `r`
   * extends (the cache is reordered accordingly); `null` at the first step.
   * The returned buffer may be reused by the next call: copy what must be kept.
   * `final` is a hint that no step will follow, so the session need not keep its cache for it
   * (a step after a `final` one may fail).
   */
  step(tokens: Int32Array, parents: Int32Array | null, beamsPerUser: number, final?: boolean): Promise<Float32Array>;
  /** Releases the session's buffers. */
  dispose(): void;
}
