/**
 * Vector indexes for genrec behind one interface: exact flat search and HNSW.
 *
 * @packageDocumentation
 * @module @genrec/ann
 */

/** The package version this source belongs to. */
export const version = '0.0.0';
