/**
 * Baseline recommenders for genrec, each implementing core's `Recommender` contract: popularity,
 * item-to-item transitions (a smoothed Markov chain) and co-occurrence item-kNN. The conformance
 * suite every model package runs is exported from `@genrec/model-baselines/testing`.
 *
 * @packageDocumentation
 * @module @genrec/model-baselines
 */

export { PACKAGE_NAME, version } from './version.js';
export { BASELINE_FORMAT_VERSION } from './baseline-model.js';
export type { BaselineFitOptions } from './fit-run.js';
export { PopularityModel, fitPopularity, loadPopularity, type PopularityFitOptions } from './popularity.js';
export { MAX_MARKOV_ORDER, MIN_MARKOV_SMOOTHING, MarkovModel, fitMarkov, loadMarkov, type MarkovFitOptions } from './markov.js';
export { ItemKnnModel, fitItemKnn, loadItemKnn, type ItemKnnFitOptions } from './item-knn.js';
