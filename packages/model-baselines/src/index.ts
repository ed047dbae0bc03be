/**
 * Baseline recommenders for genrec (popularity, Markov transitions, item-kNN) and the Recommender conformance suite.
 *
 * @packageDocumentation
 * @module @genrec/model-baselines
 */

/** The package version this source belongs to. */
export const version = '0.0.0';
