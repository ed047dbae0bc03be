import { createRequire } from 'node:module';
import { availableParallelism, cpus } from 'node:os';

// The npm package `usearch` 2.25.3, loaded through CommonJS: its ES-module entry looks for the
// prebuilt binary by walking up from a directory it cannot determine under ESM and never returns
// (`import('usearch')` hangs). The CommonJS entry finds `prebuilds/` next to itself. The types
// below restate what this package uses of `javascript/dist/cjs/usearch.d.ts` (the package's
// `exports` map does not expose that path to TypeScript).

/** usearch metric names (`MetricKind`) genrec uses. */
export type UsearchMetricName = 'ip' | 'cos' | 'l2sq';

/** usearch scalar kinds (`ScalarKind`) genrec offers as quantization. */
export type UsearchScalarName = 'f32' | 'f16' | 'bf16' | 'i8';

/** Constructor configuration of a native index (`IndexConfig` of usearch). */
export interface UsearchNativeConfig {
  dimensions: number;
  metric: UsearchMetricName;
  quantization: UsearchScalarName;
  /** Links per node on the upper levels (`M`; level 0 keeps 2·M). */
  connectivity: number;
  /** Candidate list while inserting (`ef_construction`). */
  expansion_add: number;
  /** Candidate list while searching (`ef`); fixed for the native object's lifetime. */
  expansion_search: number;
  multi: boolean;
}

/** usearch's batched answer: `queries x k` keys and distances, `counts[q]` of them valid. */
export interface UsearchBatchMatches {
  keys: BigUint64Array;
  distances: Float32Array;
  counts: BigUint64Array;
  k: number;
}

/** usearch's answer to a single query: only the valid entries. */
export interface UsearchMatches {
  keys: BigUint64Array;
  distances: Float32Array;
}

/** The members of usearch's `Index` class that genrec calls. */
export interface UsearchNativeIndex {
  /** Inserts `keys.length` rows; `threads` native threads (0 = one per core). Throws on a duplicate key. */
  add(keys: BigUint64Array, vectors: Float32Array, threads: number): void;
  /** One native call for all rows of `vectors`; a single row answers {@link UsearchMatches}. */
  search(vectors: Float32Array, k: number, threads: number): UsearchBatchMatches | UsearchMatches;
  contains(keys: BigUint64Array): boolean[];
  remove(keys: BigUint64Array): number[];
  dimensions(): number;
  connectivity(): number;
  size(): number;
  capacity(): number;
  save(path: string): void;
  load(path: string): void;
  view(path: string): void;
}

interface UsearchModule {
  Index: new (config: UsearchNativeConfig) => UsearchNativeIndex;
}

let loaded: UsearchModule | undefined;

/** The usearch module, loaded on first use (CommonJS, see the note at the top of this file). */
function usearchModule(): UsearchModule {
  loaded ??= createRequire(import.meta.url)('usearch') as UsearchModule;
  return loaded;
}

/**
 * Creates an empty native usearch index.
 *
 * @param config - usearch's constructor configuration (checked by the caller).
 * @returns the native index.
 * @throws Error from usearch when it rejects the configuration.
 * @example
 * ```ts
 * const native = createNativeIndex({ dimensions: 8, metric: 'ip', quantization: 'f32', connectivity: 16, expansion_add: 200, expansion_search: 64, multi: false });
 * ```
 */
export function createNativeIndex(config: UsearchNativeConfig): UsearchNativeIndex {
  const { Index } = usearchModule();
  return new Index(config);
}

/**
 * Search contexts usearch reserves when it loads or views a file (`std::thread::hardware_concurrency`,
 * the online cores); estimated from below as the fewer of Node's core count and available
 * parallelism, so that a search never asks for more contexts than exist.
 */
export function coreCount(): number {
  cores ??= Math.max(1, Math.min(cpus().length || 1, availableParallelism()));
  return cores;
}

let cores: number | undefined;
