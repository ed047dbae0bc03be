import type { HistoryBatch } from '@genrec/core';
import { CompiledGraph, Graph } from '@genrec/nn';
import { ITEM_INPUTS, buildQueryGraph, buildTableGraph, slotCount, type SetrecArchitecture } from './setrec-graph.js';

/**
 * Batch sizes compiled for inference (each lazily, on first use): powers of two up to the
 * configured batch size, then it. Users are grouped by history length first, so groups are often
 * small; a fine ladder keeps the padding rows of a group under one half (measured on the synthetic
 * default: [1, 8, 32, 256] computed ~3x the rows: 478 users/s against ~950 with the ladder).
 */
function rowBuckets(maxBatch: number): number[] {
  const out: number[] = [];
  for (let b = 1; b < maxBatch; b *= 2) out.push(b);
  out.push(maxBatch);
  return out;
}

/** A block of users answered by one inference run. */
export interface ScoreBlock {
  /** Positions (in the caller's `users` list) of the block's users, in block row order. */
  readonly positions: readonly number[];
  /** `positions.length x slots·d` query vectors. */
  readonly queries: Float32Array;
  /** `positions.length x itemCount` scores (`Σ_s w_s log-softmax_s`), when asked for. */
  readonly scores: Float32Array | undefined;
}

/**
 * Runs SETRec's dropout-free inference graphs: the token table of every item once per set of
 * parameters, then per batch of histories the n+1 query vectors (and, when asked, every item's
 * score). Histories are grouped by length bucket (each user's most recent `maxLength` items,
 * left-padded to the smallest bucket that holds them) and by batch-size bucket; each (batch,
 * length, with-scores) shape is one lazily compiled session. Parameters are fed at every run, so
 * one runner serves a model and, during training, the trainer's current parameters.
 */
export class SetrecRunner {
  private readonly sessions = new Map<string, Promise<CompiledGraph>>();
  private readonly rows: number[];
  private released = false;

  constructor(
    readonly architecture: SetrecArchitecture,
    private readonly maxBatch: number,
    private readonly lengthBuckets: readonly number[],
    private readonly threads: number,
  ) {
    this.rows = rowBuckets(maxBatch);
  }

  private session(rows: number, length: number, scores: boolean): Promise<CompiledGraph> {
    const key = `${rows}|${length}|${scores}`;
    let pending = this.sessions.get(key);
    if (!pending) {
      const graph = new Graph({ training: false });
      const built = buildQueryGraph(graph, this.architecture, rows, length, scores);
      const outputs = scores ? [built.queries, built.scores!] : [built.queries];
      pending = CompiledGraph.create(graph, { outputs, outputNames: scores ? ['queries', 'scores'] : ['queries'], parameters: 'inputs', intraOpNumThreads: this.threads });
      this.sessions.set(key, pending);
    }
    return pending;
  }

  /**
   * Every item's tokens for `parameters` (`itemCount x slots·d`, row `j` = item `j + 1`, CF first).
   *
   * @param cf - the frozen CF vectors (`itemCount x cfDimension`)
   * @param content - the content vectors (`itemCount x contentDimension`)
   */
  async tokenTable(parameters: ReadonlyMap<string, Float32Array>, cf: Float32Array, content: Float32Array): Promise<Float32Array> {
    const graph = new Graph({ training: false });
    const { table } = buildTableGraph(graph, this.architecture);
    const compiled = await CompiledGraph.create(graph, { outputs: [table], outputNames: ['table'], parameters: 'inputs', intraOpNumThreads: this.threads });
    try {
      const feeds: Record<string, Float32Array> = { [ITEM_INPUTS.cf]: cf, [ITEM_INPUTS.content]: content };
      for (const info of compiled.inputs) if (feeds[info.name] === undefined) feeds[info.name] = parameters.get(info.name)!;
      return (await compiled.run(feeds)).table as Float32Array;
    } finally {
      await compiled.release();
    }
  }

  /**
   * Runs users `users[i]` of `batch` (each must have a non-empty history) and hands every block to
   * `onBlock` as soon as it is computed (its buffers are fresh: keep them or let them go).
   *
   * @param weights - slot weights for the scores; `undefined` computes the query vectors only
   */
  async run(
    batch: HistoryBatch,
    users: readonly number[],
    parameters: ReadonlyMap<string, Float32Array>,
    tokens: Float32Array,
    weights: Float32Array | undefined,
    onBlock: (block: ScoreBlock) => void,
  ): Promise<void> {
    const { maxLength } = this.architecture;
    const width = slotCount(this.architecture) * this.architecture.hiddenSize;
    const itemCount = this.architecture.itemCount;
    // group by length bucket, keeping the order inside each group
    const groups = new Map<number, number[]>();
    users.forEach((u, position) => {
      const length = Math.min(maxLength, batch.offsets[u + 1]! - batch.offsets[u]!);
      const bucket = this.lengthBuckets.find((b) => b >= length)!;
      let group = groups.get(bucket);
      if (!group) groups.set(bucket, (group = []));
      group.push(position);
    });
    for (const [length, positions] of [...groups].sort((a, b) => a[0] - b[0])) {
      for (let from = 0; from < positions.length; from += this.maxBatch) {
        const count = Math.min(this.maxBatch, positions.length - from);
        const rows = this.rows.find((b) => b >= count)!;
        const compiled = await this.session(rows, length, weights !== undefined);
        const seq = new BigInt64Array(rows * length);
        const block = positions.slice(from, from + count);
        block.forEach((position, i) => {
          const u = users[position]!;
          const to = batch.offsets[u + 1]!;
          const start = Math.max(batch.offsets[u]!, to - length);
          const base = i * length + length - (to - start);
          for (let j = start; j < to; j++) seq[base + j - start] = BigInt(batch.items[j]!);
        });
        const feeds: Record<string, Float32Array | BigInt64Array> = { seq, [ITEM_INPUTS.tokens]: tokens };
        if (weights !== undefined) feeds[ITEM_INPUTS.weights] = weights;
        for (const info of compiled.inputs) if (feeds[info.name] === undefined) feeds[info.name] = parameters.get(info.name)!;
        const out = await compiled.run(feeds);
        const queries = (out.queries as Float32Array).subarray(0, count * width);
        const scores = weights === undefined ? undefined : (out.scores as Float32Array).subarray(0, count * itemCount);
        onBlock({ positions: block, queries, scores });
      }
    }
  }

  /** Releases every compiled session. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    for (const pending of this.sessions.values()) await (await pending).release();
    this.sessions.clear();
  }
}
