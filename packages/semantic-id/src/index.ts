/**
 * Item embeddings, ordered semantic IDs (residual quantisation) and SETRec-style set identifiers for genrec.
 *
 * @packageDocumentation
 * @module @genrec/semantic-id
 */

/** The package version this source belongs to. */
export const version = '0.0.0';
