import { init, type Initializer, type SymbolicTensor } from '../graph/graph.js';
import { gather } from '../graph/ops.js';
import { rowSparseParameter } from '../graph/row-sparse.js';

/** Options of {@link embedding}. */
export interface EmbeddingOptions {
  /** @defaultValue normal(0, 0.02) */
  weightInit?: Initializer;
  /** Row whose values start at zero (e.g. padding id 0); it still receives gradients like PyTorch without `padding_idx`. */
  zeroRow?: number;
  /**
   * Row-sparse training (see `rowSparseParameter`): at most this many distinct ids per step; the
   * step computes gradients and lazy optimizer updates for the looked-up rows only. `lookup` then
   * needs int64/int32 graph inputs, and `table` may not be used in other ops (no tied output layer).
   * @defaultValue dense
   */
  sparseRows?: number;
}

/** Table of the embedding (returned so that it can be tied to an output layer). */
export interface EmbeddingLayer {
  readonly table: SymbolicTensor;
  /** Looks up int64 ids: `[...ids.shape, dim]`. */
  lookup(ids: SymbolicTensor): SymbolicTensor;
}

/**
 * An embedding table `<name>.weight` `[count, dim]` looked up with Gather (gradient: `ops.scatterAdd`, exact on any thread count),
 * or with `sparseRows` a row-sparse table (gradient and optimizer update for the looked-up rows only).
 */
export function embedding(graph: SymbolicTensor['graph'], name: string, count: number, dim: number, options: EmbeddingOptions = {}): EmbeddingLayer {
  if (options.sparseRows !== undefined) {
    const sparse = graph.scope(name, () => rowSparseParameter(graph, 'weight', [count, dim], options.weightInit ?? init.normal(0.02), { maxRows: options.sparseRows! }));
    if (options.zeroRow !== undefined) graph.parameters.find((p) => p.tensor === sparse.tensor)!.initial.fill(0, options.zeroRow * dim, (options.zeroRow + 1) * dim);
    return { table: sparse.tensor, lookup: (ids) => sparse.gather(ids) };
  }
  const table = graph.scope(name, () => {
    const t = graph.parameter('weight', [count, dim], options.weightInit ?? init.normal(0.02));
    if (options.zeroRow !== undefined) graph.parameters[graph.parameters.length - 1]!.initial.fill(0, options.zeroRow * dim, (options.zeroRow + 1) * dim);
    return t;
  });
  return { table, lookup: (ids) => gather(table, ids) };
}
