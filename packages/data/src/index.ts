/**
 * Dataset readers, id maps, filters, splits, statistics and the synthetic default dataset of genrec.
 *
 * @packageDocumentation
 * @module @genrec/data
 */

/** The package version this source belongs to. */
export const version = '0.0.0';
