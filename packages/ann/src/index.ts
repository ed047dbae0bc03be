/**
 * Vector indexes for genrec behind one interface (`VectorIndex` of `@genrec/core`): exact flat
 * search on onnxruntime matrix products, HNSW on hnswlib-node, and HNSW on usearch (optionally on
 * quantized vectors), with atomic persistence, a loader
 * that dispatches on the saved kind, and a recall/throughput helper. The conformance suite every
 * implementation runs is exported as `@genrec/ann/testing`, and the input checks every index here
 * applies (same limits, codes and messages) as `@genrec/ann/index-input`.
 *
 * @packageDocumentation
 * @module @genrec/ann
 */

export { FLAT_INDEX_KIND, FlatIndex, loadFlatIndex, type FlatBackend, type FlatIndexOptions } from './flat-index.js';
export { HNSW_INDEX_KIND, HnswIndex, loadHnswIndex, type HnswIndexOptions } from './hnsw-index.js';
export {
  USEARCH_INDEX_KIND,
  UsearchIndex,
  loadUsearchIndex,
  type LoadUsearchIndexOptions,
  type UsearchIndexOptions,
  type UsearchQuantization,
  type UsearchSearchOptions,
} from './usearch-index.js';
export { loadVectorIndex } from './load-vector-index.js';
export { SIDECAR_FILE, type IndexSidecar, type LoadIndexOptions, type SidecarDataFile } from './sidecar.js';
export { TopKHeap } from './top-k.js';
export { recallAtK, measureRecallThroughput, type RecallThroughputOptions, type RecallThroughputPoint, type RecallThroughputReport } from './recall-throughput.js';
export { measureHnswParallelQps, type ParallelQps, type ParallelQpsOptions } from './parallel-throughput.js';
export { paretoFrontier, qpsAtRecall, type QpsAtRecall, type RecallQpsPoint } from './recall-curve.js';
