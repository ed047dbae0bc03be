/**
 * Recommendation metrics, protocols, significance tests and reports for genrec.
 *
 * @packageDocumentation
 * @module @genrec/eval
 */

/** The package version this source belongs to. */
export const version = '0.0.0';
