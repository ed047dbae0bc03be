import { loadRecommender as loadWithLoaders, type Recommender, type RecommenderLoader } from '@genrec/core';
import { loadItemKnn, loadMarkov, loadPopularity } from '@genrec/model-baselines';
import { SASREC_KIND, loadSasrec } from '@genrec/model-sasrec';
import { SETREC_KIND, loadSetrec } from '@genrec/model-setrec';
import { TIGER_KIND, loadTiger } from '@genrec/model-tiger';

/**
 * The loader of every model kind genrec ships, by kind (the `model` field of a saved folder).
 * Spread it into core's `loadRecommender` to add your own kinds.
 */
export const MODEL_LOADERS: Readonly<Record<string, RecommenderLoader>> = Object.freeze({
  popularity: loadPopularity,
  markov: loadMarkov,
  'item-knn': loadItemKnn,
  [SASREC_KIND]: (directory: string) => loadSasrec(directory),
  [SETREC_KIND]: (directory: string) => loadSetrec(directory),
  [TIGER_KIND]: (directory: string) => loadTiger(directory),
});

/** Options of {@link loadRecommender}. */
export interface LoadAnyRecommenderOptions {
  /** Further loaders by kind (a model package of your own); they override built-in kinds of the same name. */
  loaders?: Readonly<Record<string, RecommenderLoader>>;
}

/**
 * Loads any saved genrec model folder: reads its manifest and hands it to the loader of its kind
 * ({@link MODEL_LOADERS}: `sasrec`, `setrec`, `tiger`, `popularity`, `markov`, `item-knn`, plus `options.loaders`).
 *
 * @param directory - a folder written by a model's `save`.
 * @returns the model, ready to `recommend`.
 * @throws GenrecError `FORMAT_VERSION` for a kind no loader knows (naming the known ones) or a
 * newer format, `NOT_FOUND`, `CORRUPT_ARTIFACT`.
 * @example
 * ```ts
 * import { loadRecommender } from '@genrec/models';
 * const model = await loadRecommender('runs/toys/model');
 * const { items } = await model.recommend([[12, 7, 99]], { k: 10 });
 * ```
 */
export function loadRecommender(directory: string, options: LoadAnyRecommenderOptions = {}): Promise<Recommender> {
  return loadWithLoaders(directory, { loaders: { ...MODEL_LOADERS, ...options.loaders } });
}
