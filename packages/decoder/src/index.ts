/**
 * Trie-constrained beam search, sampling and set-ID decoding over semantic IDs for genrec.
 *
 * @packageDocumentation
 * @module @genrec/decoder
 */

/** The package version this source belongs to. */
export const version = '0.0.0';
