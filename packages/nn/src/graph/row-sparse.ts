import { init, type Graph, type Initializer, type Shape, type SymbolicTensor } from './graph.js';
import { gather } from './ops.js';

/** Options of {@link rowSparseParameter}. */
export interface RowSparseOptions {
  /**
   * The most distinct rows one step may touch (over every lookup of the step). The graph holds a
   * `[maxRows, ...]` slice; a step that touches more rows is refused (`INVALID_INPUT`). Capped at the
   * parameter's row count.
   */
  maxRows: number;
  /** @defaultValue 'float32' */
  dtype?: 'float32' | 'float64';
}

/** A row-sparse parameter: the full tensor (never read by ops), its touched rows and the lookup. */
export interface RowSparseParameter {
  /** The full parameter `[rowCount, ...rest]`, as the trainer stores and checkpoints it. It may not be used in ops. */
  readonly tensor: SymbolicTensor;
  /** The rows a step touches, `[maxRows, ...rest]` (what the gradient and the optimizer update see). */
  readonly rows: SymbolicTensor;
  /**
   * Looks up rows: `[...indices.shape, ...rest]`, like `ops.gather(tensor, indices)`. `indices` must
   * be an int64/int32 graph input holding row ids of the full parameter (`0 .. rowCount - 1`);
   * the trainer maps them to positions in `rows` every step.
   */
  gather(indices: SymbolicTensor): SymbolicTensor;
}

/**
 * Declares a **row-sparse** parameter for large embedding tables: a training step feeds only the
 * rows its index inputs touch, computes their gradient (`ops.scatterAdd` into `[maxRows, ...]`, not into
 * the whole table) and updates only those rows and their optimizer state — **lazy** optimizer
 * semantics (TensorFlow's LazyAdam, PyTorch's SparseAdam): a row no index of the step points at
 * keeps its value and its moments, where dense Adam would decay its moments and keep moving it by
 * its momentum. Rows touched at every step get exactly dense Adam's update. The trainer gathers the
 * rows (and their Adam moments) before the run and writes them back after it, so a step moves
 * `O(maxRows x rest)` values instead of the whole table and its state.
 *
 * Checkpoints hold the full parameter and optimizer state under the usual names
 * (`<name>`, `optimizer.m.<name>`…), so dense and row-sparse trainers load each other's files.
 *
 * @param graph - the training graph.
 * @param name - parameter name (prefixed by the current scope).
 * @param shape - the full shape `[rowCount, ...rest]`.
 * @param initializer - initial values of the full table.
 * @param options - `maxRows` (required), `dtype`.
 * @returns the parameter with its `gather`.
 * @throws GenrecError `INVALID_OPTION` for a bad `maxRows`, `INVALID_INPUT` when `gather` is given
 * something else than an int64/int32 graph input.
 * @example
 * ```ts
 * const ids = g.input('ids', 'int64', [32]);
 * const table = rowSparseParameter(g, 'item_emb.weight', [1_000_001, 64], init.normal(0.02), { maxRows: 32 });
 * const vectors = table.gather(ids); // [32, 64]
 * ```
 */
export function rowSparseParameter(graph: Graph, name: string, shape: Shape, initializer: Initializer = init.xavier(), options: RowSparseOptions): RowSparseParameter {
  const { tensor, rows } = graph.declareRowSparse(name, shape, initializer, options.dtype ?? 'float32', options.maxRows);
  return {
    tensor,
    rows,
    gather: (indices) => gather(rows, graph.rowSparseLookup(tensor.name, indices)),
  };
}
