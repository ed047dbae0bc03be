/**
 * Every genrec model package in one import — `@genrec/model-sasrec`, `@genrec/model-setrec`, `@genrec/model-tiger` and `@genrec/model-baselines`
 * (popularity, Markov, item-kNN) — with a `loadRecommender` that knows them all.
 *
 * @packageDocumentation
 * @module @genrec/models
 */

export * from '@genrec/model-baselines';
export * from '@genrec/model-sasrec';
export * from '@genrec/model-setrec';
export * from '@genrec/model-tiger';
export { MODEL_LOADERS, loadRecommender, type LoadAnyRecommenderOptions } from './load-recommender.js';

// Each model package exports its own `version` and `PACKAGE_NAME`; these local ones take
// precedence over the star re-exports.
/** The package version this source belongs to. */
export const version = '0.0.0';

/** npm name of this package. */
export const PACKAGE_NAME = '@genrec/models';
