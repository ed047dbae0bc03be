import type { Recommender, RecommenderLoader } from '@genrec/core';
import { SASREC_KIND, loadRecommender, loadSasrec } from '@genrec/models';

/** What the service needs of a model: a `Recommender` loaded here, or one running in a worker thread. */
export type ServedModel = Pick<Recommender, 'kind' | 'itemCount' | 'maxK' | 'scoreScale' | 'retiredItems' | 'describe' | 'dispose' | 'recommend'>;

/** How a model is loaded for serving. */
export interface ServingLoadOptions {
  /** onnxruntime threads per operator (0 = the saved model's setting). */
  threads: number;
  /** The largest batch the service runs (SASRec's inference batch). */
  maxBatchSize: number;
  /** Further loaders by kind (only in the main thread: functions do not cross to a worker). */
  loaders?: Readonly<Record<string, RecommenderLoader>>;
}

/**
 * Loads a model folder with `@genrec/models`' loaders, tuned for serving: SASRec compiles one
 * inference session per batch bucket up to its `inferenceBatchSize`, which is set to the largest
 * batch the service runs, so that a batch of 64 is not padded to 256 rows.
 */
export function loadServedModel(modelDir: string, options: ServingLoadOptions): Promise<Recommender> {
  const sasrec: RecommenderLoader = (directory) => loadSasrec(directory, { inferenceBatchSize: options.maxBatchSize, ...(options.threads > 0 ? { threads: options.threads } : {}) });
  return loadRecommender(modelDir, { loaders: { [SASREC_KIND]: sasrec, ...options.loaders } });
}

/** Runs model calls of the batch sizes the service will use (compiles sessions, fills caches). */
export async function warmModel(model: ServedModel, maxBatchSize: number): Promise<void> {
  const history = Array.from({ length: Math.min(3, model.itemCount) }, (_, i) => i + 1);
  const k = Math.min(10, model.maxK);
  for (const size of new Set([1, 8, 32, maxBatchSize].filter((s) => s <= maxBatchSize))) {
    const histories = Array.from({ length: size }, (_, u) => (u === 0 ? [] : history));
    await model.recommend(histories, { k });
  }
}
