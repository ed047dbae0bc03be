import { GenrecError, checkBooleanOption, checkIntegerOption, type Matrix, type VectorSearchOptions } from '@genrec/core';
import { checkSearchInput } from '@genrec/ann/index-input';

// LanceIndex applies the input rules of the VectorIndex contract as @genrec/ann's indexes do (its
// `@genrec/ann/index-input` subpath: the same limits, codes and messages, so the conformance suite
// sees the same behaviour from every implementation); what is LanceDB's own is here.

/** Largest `nprobes` / `refineFactor` accepted (far above any useful value; catches typos such as 1e9). */
export const MAX_SEARCH_PARAMETER = 1 << 20;

/** The options of `LanceIndex.search`: the contract's, plus LanceDB's own knobs. */
export interface LanceSearchOptions extends VectorSearchOptions {
  /**
   * IVF partitions probed per query once `buildIndex` has run (LanceDB's `nprobes`); ignored
   * before. When the probed partitions hold fewer rows than the search needs (a narrow `where`, a
   * long exclusion list, a selective `filter`), the query is repeated with 4 times as many, up to
   * all partitions, so it never comes back short.
   * @defaultValue 20 (LanceDB's default)
   */
  nprobes?: number;
  /**
   * Once `buildIndex` has run: LanceDB takes `limit x refineFactor` candidates by their PQ codes
   * and re-ranks them by their full vectors, returning exact distances. 1 re-ranks only the
   * candidates it returns (exact scores, PQ recall); larger values raise recall; 0 skips the
   * re-ranking (scores are then LanceDB's approximate PQ distances, converted). Ignored before an
   * index exists.
   * @defaultValue 4 (`DEFAULT_REFINE_FACTOR`)
   */
  refineFactor?: number;
  /**
   * An SQL filter over the table's columns (`id`, `vector`), e.g. `'id BETWEEN 1 AND 5000'`, applied
   * by LanceDB before the vector search (a prefilter). Checked with LanceDB's planner before the
   * search: a malformed filter is `INVALID_OPTION`.
   */
  where?: string;
  /** Bypass the IVF-PQ index: an exact, brute-force search (ground truth). @defaultValue false */
  exact?: boolean;
}

/**
 * Checks the queries, `k` and options of a `LanceIndex.search` call: the contract's (`@genrec/ann`'s
 * `checkSearchInput`: `k` an integer in `[1, max(size, 1024)]`, `queries x k` at most 2^27, shapes,
 * finite values, `exclude`, `filter`, `ef`), then LanceDB's own. Returns the query values (row-major,
 * not copied) and their count.
 *
 * @throws GenrecError `SHAPE_MISMATCH` for a wrong width or `exclude` length, `INVALID_INPUT` for
 * non-finite values, `INVALID_OPTION` for a bad `k`, `ef`, `filter`, `nprobes`, `refineFactor`,
 * `where` (not a string) or `exact`.
 */
export function checkLanceSearchInput(
  queries: Matrix | Float32Array,
  k: number,
  options: LanceSearchOptions,
  dimension: number,
  size: number,
): { data: Float32Array; queryCount: number } {
  const checked = checkSearchInput(queries, k, options, dimension, size);
  if (options.nprobes !== undefined) checkIntegerOption(options.nprobes, 'nprobes', 1, MAX_SEARCH_PARAMETER);
  if (options.refineFactor !== undefined) checkIntegerOption(options.refineFactor, 'refineFactor', 0, MAX_SEARCH_PARAMETER);
  if (options.where !== undefined && (typeof options.where !== 'string' || options.where.trim() === '')) {
    throw new GenrecError('INVALID_OPTION', `search: where must be a non-empty SQL filter string, got ${JSON.stringify(options.where)}`, { details: { field: 'where' } });
  }
  if (options.exact !== undefined) checkBooleanOption(options.exact, 'exact');
  return checked;
}
