/**
 * Every genrec model package in one import, with a loadRecommender that knows them all.
 *
 * @packageDocumentation
 * @module @genrec/models
 */

/** The package version this source belongs to. */
export const version = '0.0.0';
