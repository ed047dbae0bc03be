import { datasetFingerprint, type FitData, type ScoreScale, type Tensor } from '@genrec/core';
import { BaselineRecommender, type BaselineState } from './baseline-model.js';
import { OnePassFit, checkCommonFitOptions, checkFitData, type BaselineFitOptions } from './fit-run.js';
import { itemMetadataOf } from './item-metadata.js';
import { checkStoredHyperParameters, openBaselineFolder } from './load-baseline.js';

/** Options of {@link fitPopularity}: only the common ones (popularity has no hyper-parameter). */
export type PopularityFitOptions = BaselineFitOptions;

/**
 * The popularity baseline: every user gets the items with the most training interactions, minus
 * what is excluded. Scores are training counts (`scoreScale` `'count'`); ties go to the lower id.
 * An empty history gets the same list (popularity is its own fallback).
 *
 * @example
 * ```ts
 * const model = await fitPopularity({ train: split.train });
 * const { items, scores } = await model.recommend([[5, 9]], { k: 10 }); // scores = training counts
 * ```
 */
export class PopularityModel extends BaselineRecommender {
  /** `'popularity'`. */
  readonly kind = 'popularity';
  /** Scores are training interaction counts. */
  readonly scoreScale: ScoreScale = 'count';

  /** @internal Use {@link fitPopularity} or {@link loadPopularity}. */
  constructor(state: BaselineState) {
    super(state);
  }

  protected scoreRow(_history: Int32Array, row: Float64Array): void {
    for (let j = 0; j < this.itemCount; j++) row[j] = this.popularity[j]!;
  }

  protected candidateScorer(): (itemId: number) => number {
    return (itemId) => this.popularity[itemId - 1]!;
  }

  protected tensors(): Record<string, Tensor> {
    return {};
  }
}

/**
 * Mean negative log-likelihood of the training interactions under the add-one-smoothed popularity
 * distribution `(count + 1) / (interactions + itemCount)` (the `epoch-end` loss of the popularity
 * and Markov baselines' order-0 model). 0 when there is no interaction.
 */
export function popularityLoss(popularity: Int32Array, interactions: number): number {
  if (interactions === 0) return 0;
  const denominator = interactions + popularity.length;
  let sum = 0;
  for (const count of popularity) if (count > 0) sum -= count * Math.log((count + 1) / denominator);
  return sum / interactions;
}

/**
 * Fits the popularity baseline: one pass counting every training interaction.
 *
 * @param data - `train` is required; `validation` is not used; `catalog` titles are saved with the model.
 * @param options - see {@link PopularityFitOptions}.
 * @returns the fitted model.
 * @throws GenrecError `INVALID_OPTION` for an unknown or invalid option, `INVALID_INPUT` / `SHAPE_MISMATCH` for malformed data.
 * @example
 * ```ts
 * const split = leaveOneOutSplit(generateSyntheticDataset().dataset);
 * const model = await fitPopularity({ train: split.train });
 * const top = await model.recommend([[1, 2, 3]], { k: 10 });
 * ```
 */
export async function fitPopularity(data: FitData, options: PopularityFitOptions = {}): Promise<PopularityModel> {
  const resolved = checkCommonFitOptions(options, [], 'fitPopularity');
  const train = checkFitData(data, 'fitPopularity');
  const run = new OnePassFit('popularity', resolved, train.userCount);
  const popularity = new Int32Array(train.itemCount);
  let rows = 0;
  for (; rows < train.userCount; rows++) {
    if (!(await run.next(rows))) break;
    for (let i = train.offsets[rows]!; i < train.offsets[rows + 1]!; i++) popularity[train.items[i]! - 1]!++;
  }
  const trainingInteractions = train.offsets[rows]!;
  const model = new PopularityModel({
    itemCount: train.itemCount,
    popularity,
    hyperParameters: { seed: resolved.seed },
    dataFingerprint: datasetFingerprint(train),
    trainingInteractions,
    complete: run.complete,
    items: itemMetadataOf(data),
  });
  run.end(() => popularityLoss(popularity, trainingInteractions));
  return model;
}

/**
 * Loads a popularity model saved by `PopularityModel.save`.
 *
 * @throws GenrecError `NOT_FOUND`, `FORMAT_VERSION` (another model kind or a newer format), `CORRUPT_ARTIFACT`.
 * @example
 * ```ts
 * await model.save('runs/popularity');
 * const same = await loadPopularity('runs/popularity');
 * ```
 */
export async function loadPopularity(directory: string): Promise<PopularityModel> {
  const opened = openBaselineFolder(directory, 'popularity');
  checkStoredHyperParameters(directory, () => checkCommonFitOptions(opened.state.hyperParameters, [], 'popularity manifest'));
  return new PopularityModel(opened.state);
}
