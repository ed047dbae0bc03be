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
   */
  step(tokens: Int32Array, parents: Int32Array | null, beamsPerUser: number): Promise<Float32Array>;
  /** Releases the session's buffers. */
  dispose(): void;
}
