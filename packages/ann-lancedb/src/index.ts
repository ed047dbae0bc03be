/**
 * A disk-based `VectorIndex` (the contract of `@genrec/core`) on an embedded LanceDB table, for
 * catalogues that do not fit in memory: brute force until an IVF-PQ index is built, SQL prefilters
 * (`where`) beside the contract's exclusion lists and filter callbacks, and checkpoints of the
 * table version in a sidecar. `@genrec/ann`'s `loadVectorIndex` does not load it: use
 * `loadLanceIndex` (or `isLanceIndexFolder` to choose).
 *
 * @packageDocumentation
 * @module @genrec/ann-lancedb
 */

export { DEFAULT_NPROBES, DEFAULT_REFINE_FACTOR, DEFAULT_SEARCH_CONCURRENCY, LanceIndex, isLanceIndexFolder, loadLanceIndex, type LanceBuildIndexOptions, type LanceIndexOptions, type LanceOptimizeResult, type LoadLanceIndexOptions } from './lance-index.js';
export { LANCE_FORMAT_VERSION, LANCE_INDEX_KIND, SIDECAR_FILE, type ExpectedIndex, type LanceIndexSidecar, type LanceVectorIndexParameters } from './lance-folder.js';
export { type LanceSearchOptions } from './lance-input.js';
export { distanceTypeOf, scoreFromDistance, type LanceDistanceType } from './lance-metric.js';
export { IdSet } from './id-set.js';
