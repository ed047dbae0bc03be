import type { HistoryBatch } from '@genrec/core';
import { CompiledGraph, Graph } from '@genrec/nn';
import { buildHiddenGraph, type SasrecArchitecture } from './sasrec-graph.js';

/** Batch sizes compiled for inference (each lazily, on first use), capped by the configured batch size. */
function inferenceBuckets(maxBatch: number): number[] {
  return [...new Set([1, 8, 32, maxBatch].filter((b) => b <= maxBatch))].sort((a, b) => a - b);
}

/**
 * Computes the last hidden state of histories with a dropout-free inference graph per batch size.
 * Parameters are fed at every run, so one runner serves a model and, during training, the
 * trainer's current parameters.
 */
export class HiddenStateRunner {
  private readonly sessions = new Map<number, Promise<CompiledGraph>>();
  private readonly buckets: number[];
  private released = false;

  constructor(
    private readonly architecture: SasrecArchitecture,
    private readonly maxBatch: number,
    private readonly threads: number,
  ) {
    this.buckets = inferenceBuckets(maxBatch);
  }

  private session(batch: number): Promise<CompiledGraph> {
    let pending = this.sessions.get(batch);
    if (!pending) {
      const graph = new Graph({ training: false });
      const { hidden } = buildHiddenGraph(graph, this.architecture, batch, 'zeros');
      pending = CompiledGraph.create(graph, { outputs: [hidden], outputNames: ['hidden'], parameters: 'inputs', intraOpNumThreads: this.threads });
      this.sessions.set(batch, pending);
    }
    return pending;
  }

  /**
   * The last hidden state of users `users[i]` of `batch` (each history cut to its most recent
   * `maxLength` items, left-padded), row `i` of the result (`users.length x d`, row-major).
   */
  async run(batch: HistoryBatch, users: ArrayLike<number>, parameters: ReadonlyMap<string, Float32Array>): Promise<Float32Array> {
    const { hiddenSize: d, maxLength: L } = this.architecture;
    const out = new Float32Array(users.length * d);
    for (let from = 0; from < users.length; from += this.maxBatch) {
      const count = Math.min(this.maxBatch, users.length - from);
      const size = this.buckets.find((b) => b >= count)!;
      const compiled = await this.session(size);
      const seq = new BigInt64Array(size * L);
      for (let i = 0; i < count; i++) {
        const u = users[from + i]!;
        const to = batch.offsets[u + 1]!;
        const start = Math.max(batch.offsets[u]!, to - L);
        const base = i * L + L - (to - start);
        for (let j = start; j < to; j++) seq[base + j - start] = BigInt(batch.items[j]!);
      }
      const feeds: Record<string, Float32Array | BigInt64Array> = { seq };
      for (const info of compiled.inputs) if (info.name !== 'seq') feeds[info.name] = parameters.get(info.name)!;
      const result = (await compiled.run(feeds)).hidden as Float32Array;
      out.set(result.subarray(0, count * d), from * d);
    }
    return out;
  }

  /** Releases every compiled session. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    for (const pending of this.sessions.values()) await (await pending).release();
    this.sessions.clear();
  }
}
