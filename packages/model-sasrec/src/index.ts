/**
 * SASRec for genrec: a self-attentive sequential recommender with full-softmax, BCE or
 * sampled-softmax training, implementing core's `Recommender` contract (exact full ranking or any
 * `VectorIndex`, save/load, ONNX export of the scoring graph) and `@genrec/nn`'s preference hook.
 *
 * @packageDocumentation
 * @module @genrec/model-sasrec
 */

export { version, PACKAGE_NAME, SASREC_KIND, SASREC_FORMAT_VERSION } from './version.js';
export { fitSasrec } from './fit-sasrec.js';
export { loadSasrec, type LoadSasrecOptions } from './load-sasrec.js';
export { SasrecModel, type ExportOnnxOptions, type SasrecModelInit, type SasrecTrainingSummary, type UseIndexOptions } from './sasrec-model.js';
export { SASREC_DEFAULTS, SASREC_LOSSES, resolveSasrecSpec, type FitSasrecOptions, type SasrecLoss, type SasrecOptions, type SasrecSpec } from './options.js';
export { sasrecPreferenceModel, PREFERENCE_INPUTS } from './preference-model.js';
export { sasrecParameterShapes, type SasrecArchitecture } from './sasrec-graph.js';
