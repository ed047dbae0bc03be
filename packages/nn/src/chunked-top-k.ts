import type { Matrix } from '@genrec/core';
import { attr, encodeModel, type NodeInit, type TensorProtoInit, type ValueInfoInit } from './onnx/proto.js';

/**
 * Shape of the chunked selection of {@link chunkedMatMulTopKModel}: the fixed operand's `n` columns
 * in chunks of `chunkColumns` (each one Gemm), each chunk in blocks of `blockColumns` (one maximum),
 * blocks used for `k` up to `maxBlockedK`.
 * @internal
 */
export interface ChunkedTopKShape {
  readonly chunkColumns: number;
  readonly blockColumns: number;
  readonly maxBlockedK: number;
}

/**
 * The measured best shape on the `ann_hnsw` peer's random 100,000 x 64 vectors, one thread, k 10
 * (onnxruntime's profiler, 1,000 queries; README "Chunked selection"): 16,384-column chunks of
 * 32-column blocks at 128 query rows a call. Blocks pay up to k 32 (at k 60, onnxruntime's TopK over
 * the block maxima and the gathers cost more than they save). Above k 32 each chunk hands on its own
 * top k — exact, but no faster than one TopK over the whole row (each chunk's top-k heap fills
 * again), and slower from about k 100: callers with large k use the whole-row product.
 * @internal
 */
export const CHUNKED_TOP_K_SHAPE: ChunkedTopKShape = { chunkColumns: 16384, blockColumns: 32, maxBlockedK: 32 };

/** The per-chunk inputs of a chunked model for a requested `k` (already at most `n`). @internal */
export interface ChunkedTopKFeeds {
  /** Whether the block selection runs (`k <= maxBlockedK`). */
  readonly blocked: boolean;
  /** Blocks a full chunk / the last chunk hands on: `min(k, blocks)`. */
  readonly blocksFull: number;
  readonly blocksLast: number;
  /** Entries a full chunk / the last chunk hands on without blocks: `min(k, columns)`. */
  readonly columnsFull: number;
  readonly columnsLast: number;
  /** Scores the blocks reach the final TopK with (all chunks' kept blocks). */
  readonly blockCandidates: number;
}

/** The inputs of {@link chunkedMatMulTopKModel}'s session for a final top `k` of `n` columns. @internal */
export function chunkedTopKFeeds(n: number, k: number, shape: ChunkedTopKShape): ChunkedTopKFeeds {
  const fullBlocks = shape.chunkColumns / shape.blockColumns;
  const chunks = Math.ceil(n / shape.chunkColumns);
  const lastColumns = n - (chunks - 1) * shape.chunkColumns;
  const lastBlocks = Math.ceil(lastColumns / shape.blockColumns);
  return {
    blocked: k <= shape.maxBlockedK,
    blocksFull: Math.min(k, fullBlocks),
    blocksLast: Math.min(k, lastBlocks),
    columnsFull: Math.min(k, shape.chunkColumns),
    columnsLast: Math.min(k, lastColumns),
    blockCandidates: ((chunks - 1) * Math.min(k, fullBlocks) + Math.min(k, lastBlocks)) * shape.blockColumns,
  };
}

const i64 = (name: string, values: readonly number[]): TensorProtoInit => ({ name, dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values, (v) => BigInt(v)) });
const topK = (input: string, k: string, values: string, indices: string): NodeInit => ({
  opType: 'TopK',
  inputs: [input, k],
  outputs: [values, indices],
  attributes: { axis: attr.int(-1), largest: attr.int(1), sorted: attr.int(1) },
});

/**
 * A top-k of `alpha * a * op(b)` with `b` fixed that never materialises a whole row of scores: the
 * `n` columns are split into chunks of `chunkColumns`, each chunk's scores computed by one Gemm
 * (queries x items, as the whole-row product: the same sums bit for bit) and left while they are
 * still in cache. Then, in one of two branches of an `If` (input `blocked`):
 *
 * - **blocks** (small k): each chunk's scores reduced to the maximum of every block of
 *   `blockColumns` columns; each chunk keeps its `min(k, blocks)` blocks with the largest maxima
 *   (in the order of their maxima), and the final TopK runs over the kept blocks' scores only;
 * - **chunks** (larger k): each chunk's own top `min(k, columns)`, and the final TopK over those.
 *
 * Blocks find the k best entries: an entry among the k best (by score, then lower column) lies in a
 * block whose maximum is ranked at most k-th among its chunk's blocks by the same order (each block
 * ranked before it holds an entry ranked before that entry). The kept blocks are not in column order,
 * so equal scores can come out of the final TopK in another order, and an entry tied with the k-th
 * can be chosen over a lower column: the caller asks this branch for k + 1 and repairs — it orders
 * equal scores by column, and when the k-th and (k+1)-th scores are equal it runs that row again
 * through the chunks branch. Chunks are exact in the order of Gemm + TopK over the whole row (best
 * first, equal scores by lower column): each chunk's top is sorted (ties by column) and the chunks are
 * concatenated in column order. The last chunk is padded to whole blocks with columns scoring
 * -Infinity (after every real column in the order).
 *
 * Inputs `a` (`m x inner`), `k` (the final k, at most `n`) and the {@link ChunkedTopKFeeds}; outputs
 * `values` (`m x k`) and `indices` (int64).
 * @internal
 */
export function chunkedMatMulTopKModel(b: Matrix, transposeB: boolean, alpha: number, shape: ChunkedTopKShape = CHUNKED_TOP_K_SHAPE): Uint8Array {
  const inner = transposeB ? b.cols : b.rows;
  const n = transposeB ? b.rows : b.cols;
  const { chunkColumns, blockColumns } = shape;
  const initializers: TensorProtoInit[] = [i64('axis2', [2]), i64('block', [blockColumns])];
  const blockNodes: NodeInit[] = [];
  const chunkNodes: NodeInit[] = [];
  const blockCandidates: string[] = [];
  const blockStarts: string[] = [];
  const chunkValues: string[] = [];
  const chunkIndices: string[] = [];

  const chunks = Math.ceil(n / chunkColumns);
  for (let q = 0; q < chunks; q++) {
    const first = q * chunkColumns;
    const columns = Math.min(chunkColumns, n - first);
    const blocks = Math.ceil(columns / blockColumns);
    const padded = blocks * blockColumns;
    // the chunk as padded x inner rows, whatever b's layout
    const rows = new Float32Array(padded * inner);
    if (transposeB) rows.set(b.data.subarray(first * inner, (first + columns) * inner));
    else for (let j = 0; j < columns; j++) for (let i = 0; i < inner; i++) rows[j * inner + i] = b.data[i * n + first + j]!;
    initializers.push({ name: `b${q}`, dtype: 'float32', shape: [padded, inner], data: rows }, i64(`shape${q}`, [0, blocks, blockColumns]), i64(`first${q}`, [first]));
    const gemmInputs = ['a', `b${q}`];
    if (padded > columns) {
      // -0 leaves every real score as it is (x + -0 = x, also for x = -0); finite products only
      const bias = new Float32Array(padded).fill(-0);
      bias.fill(Number.NEGATIVE_INFINITY, columns);
      initializers.push({ name: `pad${q}`, dtype: 'float32', shape: [padded], data: bias });
      gemmInputs.push(`pad${q}`);
    }
    const last = q === chunks - 1;
    const gemm = (output: string): NodeInit => ({ opType: 'Gemm', inputs: gemmInputs, outputs: [output], attributes: { transB: attr.int(1), alpha: attr.float(alpha) } });
    const kBlocks = last ? 'blocksLast' : 'blocksFull';
    blockNodes.push(
      gemm(`s${q}`), // m x padded
      { opType: 'Reshape', inputs: [`s${q}`, `shape${q}`], outputs: [`t${q}`] }, // m x blocks x block
      { opType: 'ReduceMax', inputs: [`t${q}`, 'axis2'], outputs: [`max${q}`], attributes: { keepdims: attr.int(0) } }, // m x blocks
      topK(`max${q}`, kBlocks, `bestMax${q}`, `best${q}`), // by maximum, not by column
      { opType: 'Unsqueeze', inputs: [`best${q}`, 'axis2'], outputs: [`bestU${q}`] }, // m x kq x 1
      { opType: 'GatherND', inputs: [`t${q}`, `bestU${q}`], outputs: [`picked${q}`], attributes: { batch_dims: attr.int(1) } }, // m x kq x block
      { opType: 'Flatten', inputs: [`picked${q}`], outputs: [`candidates${q}`], attributes: { axis: attr.int(1) } },
      { opType: 'Mul', inputs: [`best${q}`, 'block'], outputs: [`offset${q}`] },
      { opType: 'Add', inputs: [`offset${q}`, `first${q}`], outputs: [`start${q}`] }, // first column of each kept block
    );
    blockCandidates.push(`candidates${q}`);
    blockStarts.push(`start${q}`);
    chunkNodes.push(
      gemm(`cs${q}`),
      topK(`cs${q}`, last ? 'columnsLast' : 'columnsFull', `cv${q}`, `ci${q}`),
      { opType: 'Add', inputs: [`ci${q}`, `first${q}`], outputs: [`cj${q}`] },
    );
    chunkValues.push(`cv${q}`);
    chunkIndices.push(`cj${q}`);
  }
  blockNodes.push(
    { opType: 'Concat', inputs: blockCandidates, outputs: ['scores'], attributes: { axis: attr.int(1) } },
    { opType: 'Concat', inputs: blockStarts, outputs: ['starts'], attributes: { axis: attr.int(1) } },
    topK('scores', 'k', 'blockValues', 'position'),
    { opType: 'Div', inputs: ['position', 'block'], outputs: ['slot'] },
    { opType: 'Mod', inputs: ['position', 'block'], outputs: ['within'] },
    { opType: 'GatherElements', inputs: ['starts', 'slot'], outputs: ['blockStart'], attributes: { axis: attr.int(1) } },
    { opType: 'Add', inputs: ['blockStart', 'within'], outputs: ['blockIndices'] },
  );
  chunkNodes.push(
    { opType: 'Concat', inputs: chunkValues, outputs: ['chunkScores'], attributes: { axis: attr.int(1) } },
    { opType: 'Concat', inputs: chunkIndices, outputs: ['chunkColumns'], attributes: { axis: attr.int(1) } },
    topK('chunkScores', 'k', 'chunkValues', 'chunkPosition'),
    { opType: 'GatherElements', inputs: ['chunkColumns', 'chunkPosition'], outputs: ['chunkIndices'], attributes: { axis: attr.int(1) } },
  );
  const outputs = (values: string, indices: string): ValueInfoInit[] => [
    { name: values, dtype: 'float32', shape: ['m', 'k'] },
    { name: indices, dtype: 'int64', shape: ['m', 'k'] },
  ];
  return encodeModel({
    name: 'genrec_chunked_matmul_topk',
    nodes: [
      {
        opType: 'If',
        inputs: ['blocked'],
        outputs: ['values', 'indices'],
        attributes: {
          then_branch: attr.graph({ name: 'blocks', nodes: blockNodes, outputs: outputs('blockValues', 'blockIndices') }),
          else_branch: attr.graph({ name: 'chunks', nodes: chunkNodes, outputs: outputs('chunkValues', 'chunkIndices') }),
        },
      },
    ],
    inputs: [
      { name: 'a', dtype: 'float32', shape: ['m', inner] },
      { name: 'k', dtype: 'int64', shape: [1] },
      { name: 'blocked', dtype: 'bool', shape: [] },
      { name: 'blocksFull', dtype: 'int64', shape: [1] },
      { name: 'blocksLast', dtype: 'int64', shape: [1] },
      { name: 'columnsFull', dtype: 'int64', shape: [1] },
      { name: 'columnsLast', dtype: 'int64', shape: [1] },
    ],
    outputs: outputs('values', 'indices'),
    initializers,
  });
}
