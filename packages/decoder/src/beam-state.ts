/**
 * The explicit state of a batched beam search after some steps: for every row (hypothesis,
 * user-major, `beamsPerUser` rows per user) its generated tokens, cumulative score, cumulative
 * log-probability, the row of the previous step it extends and its trie node. Buffers are
 * preallocated for `batchSize x maxBeamsPerUser` rows and double-buffered: a step reads the
 * current arrays and writes the `next*` ones, then {@link BeamState.swap} exchanges them.
 */
export class BeamState {
  /** Users in the batch. */
  readonly batchSize: number;
  /** Tokens per finished hypothesis (row stride of {@link BeamState.tokens}). */
  readonly steps: number;
  /** Rows per user currently held (1 before the first step). */
  beamsPerUser = 1;
  /** Tokens generated so far by every hypothesis. */
  step = 0;
  /** Generated tokens, `rows x steps`; entries at `step` and later are unset. `-1` for a dead row. */
  tokens: Int32Array;
  /**
   * Score each row is ranked by: the sum of its tokens' log-probabilities, minus any diversity
   * penalty (diverse beam search). `-Infinity` for a dead row (fewer valid hypotheses than beams).
   */
  scores: Float64Array;
  /** Sum of the row's tokens' log-probabilities (without penalties). */
  logProbs: Float64Array;
  /** Row of the previous step that each row extends (`-1` before the first step). */
  parents: Int32Array;
  /** Trie node of each row's prefix (`-1` when unconstrained or dead). */
  nodes: Int32Array;
  /** Write side of the double buffer (see {@link BeamState.swap}). */
  nextTokens: Int32Array;
  /** Write side of {@link BeamState.scores}. */
  nextScores: Float64Array;
  /** Write side of {@link BeamState.logProbs}. */
  nextLogProbs: Float64Array;
  /** Write side of {@link BeamState.nodes}. */
  nextNodes: Int32Array;

  /**
   * @param batchSize - Users.
   * @param maxBeamsPerUser - The most rows per user any step will hold.
   * @param steps - Tokens per hypothesis.
   */
  constructor(batchSize: number, maxBeamsPerUser: number, steps: number) {
    this.batchSize = batchSize;
    this.steps = steps;
    const rows = batchSize * maxBeamsPerUser;
    this.tokens = new Int32Array(rows * steps);
    this.nextTokens = new Int32Array(rows * steps);
    this.scores = new Float64Array(rows);
    this.nextScores = new Float64Array(rows);
    this.logProbs = new Float64Array(rows);
    this.nextLogProbs = new Float64Array(rows);
    this.parents = new Int32Array(rows).fill(-1);
    this.nodes = new Int32Array(rows).fill(-1);
    this.nextNodes = new Int32Array(rows).fill(-1);
  }

  /** Rows currently held: `batchSize x beamsPerUser`. */
  get rows(): number {
    return this.batchSize * this.beamsPerUser;
  }

  /** Makes the `next*` arrays current after a step that produced `beamsPerUser` rows per user. */
  swap(beamsPerUser: number): void {
    const tokens = this.tokens;
    this.tokens = this.nextTokens;
    this.nextTokens = tokens;
    const scores = this.scores;
    this.scores = this.nextScores;
    this.nextScores = scores;
    const logProbs = this.logProbs;
    this.logProbs = this.nextLogProbs;
    this.nextLogProbs = logProbs;
    const nodes = this.nodes;
    this.nodes = this.nextNodes;
    this.nextNodes = nodes;
    this.beamsPerUser = beamsPerUser;
    this.step++;
  }
}
