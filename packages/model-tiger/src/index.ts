/**
 * TIGER-style generative recommendation for genrec: item vectors → ordered semantic ids → a
 * decoder-only or encoder-decoder Transformer trained with `@genrec/nn` → trie-constrained beam
 * search with exact exclusion (`@genrec/decoder`), implementing core's `Recommender` contract and
 * `@genrec/nn`'s preference hook.
 *
 * @packageDocumentation
 * @module @genrec/model-tiger
 */

export { version, PACKAGE_NAME, TIGER_KIND, TIGER_FORMAT_VERSION } from './version.js';
export { fitTiger } from './fit-tiger.js';
export { loadTiger, type LoadTigerOptions } from './load-tiger.js';
export { TigerModel, type InvalidRateOptions, type InvalidRateReport, type TigerModelInit, type TigerTrainingSummary } from './tiger-model.js';
export {
  TIGER_DEFAULTS,
  TIGER_PAPER_OPTIONS,
  resolveTigerSpec,
  type FitTigerOptions,
  type IndexedItems,
  type ItemVectorSource,
  type TigerArchitecture,
  type TigerOptions,
  type TigerQuantizer,
  type TigerSchedule,
  type TigerSpec,
} from './options.js';
/** The schedule rule of `schedule` / `warmupSteps` (defined in `@genrec/nn`, re-exported for this package's users). */
export { learningRateAt } from '@genrec/nn';
export { ItemCodeTable, type CodeFitReport } from './item-codes.js';
export type { ItemVectorReport } from './item-vectors.js';
export { causalConfig, encoderDecoderConfig, tigerParameterShapes, type TigerShape } from './graphs.js';
export { tigerPreferenceModel, TIGER_PREFERENCE_INPUTS } from './preference-model.js';
