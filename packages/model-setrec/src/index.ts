/**
 * SETRec (Lin et al., SIGIR 2025) for genrec: every item is a set of order-agnostic tokens — a
 * collaborative (CF) token from frozen SASRec item embeddings and n semantic tokens from the SETRec
 * autoencoder over the item's content — generated all at once by n+1 learnable queries, continuous
 * or discrete (PQ/OPQ codes per slot), implementing core's `Recommender` contract and `@genrec/nn`'s
 * preference hook.
 *
 * @packageDocumentation
 * @module @genrec/model-setrec
 */

import { defaultTextFields } from '@genrec/semantic-id';

export { version, PACKAGE_NAME, SETREC_KIND, SETREC_FORMAT_VERSION } from './version.js';
export { fitSetrec } from './fit-setrec.js';
export { loadSetrec, type LoadSetrecOptions } from './load-setrec.js';
export { SetrecModel, slotWeightsOf, type SetrecModelInit, type SetrecTrainingSummary, type SetrecUseIndexOptions } from './setrec-model.js';
export {
  SETREC_BACKBONES,
  SETREC_BETA_GRID,
  SETREC_DEFAULTS,
  SETREC_FALLBACK_BETA,
  defaultLengthBuckets,
  resolveSetrecSpec,
  type ColdCfToken,
  type FitSetrecOptions,
  type SetrecBackbone,
  type SetrecCfSource,
  type SetrecOptions,
  type SetrecSpec,
} from './options.js';
export { DiscreteSetTable, type DiscreteParts } from './discrete-table.js';
export { setrecParameterShapes, type SetrecArchitecture } from './setrec-graph.js';
export { interleavedCausalMask, prefixCrossMask, queryCausalMask, siblingMask } from './masks.js';
export { discretizeSetrec, type DiscretizeSetrecOptions } from './discretize.js';
/**
 * The content fields SETRec embeds when `contentFields` is not given.
 *
 * @deprecated moved to `@genrec/semantic-id` as `defaultTextFields` (model-tiger resolves its
 * `textFields` through it too); this alias is kept for one minor release.
 */
export const defaultContentFields: typeof defaultTextFields = defaultTextFields;
export { setrecPreferenceModel, SETREC_PREFERENCE_INPUTS } from './preference-model.js';
