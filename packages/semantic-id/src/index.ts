/**
 * Item embeddings, ordered semantic IDs (residual quantisation) and SETRec-style set identifiers for genrec.
 *
 * @packageDocumentation
 * @module @genrec/semantic-id
 */

/** The package version this source belongs to. */
export const version = '0.0.0';
export { matMulTransposed, matMulPlain, resolvedBackend, transpose, type KernelBackend } from './kernels.js';
export { kMeans, kMeansPlusPlusInit, type BalanceOptions, type KMeansOptions, type KMeansResult } from './kmeans.js';
export { fitResidualKMeans, ResidualQuantizer, type ResidualKMeansFit, type ResidualKMeansOptions } from './residual-quantizer.js';
export { addCollisionLevel, type CollisionLevelResult } from './collision-level.js';
export {
  SemanticIds,
  SEMANTIC_IDS_FORMAT_VERSION,
  SEMANTIC_IDS_KIND,
  type CollisionLevelMode,
  type SemanticIdsFitOptions,
} from './semantic-ids.js';
export { formatHealthReport, semanticIdHealth, type HealthReportFormat, type SemanticIdHealth } from './health.js';
export { checkSparseMatrix, sparseTimesDense, sparseTransposeTimesDense, type SparseMatrix } from './sparse-matrix.js';
export { orthonormalizeColumns, randomizedSvd, symmetricEigen, type RandomizedSvdOptions, type TruncatedSvd } from './randomized-svd.js';
export { applyTfidf, tfidf, tokenize, unescapeHtml, type TfidfModel } from './tfidf.js';
export { defaultTextFields, itemDocument, textEmbeddings, type ItemEmbeddings, type TextEmbeddingOptions, type TextEmbeddings } from './text-encoder.js';
export { collaborativeEmbeddings, type CollaborativeEmbeddingOptions } from './collaborative-encoder.js';
export { alignEmbeddings, loadEmbeddings, type EmbeddingChecks, type EmbeddingSource } from './embedding-source.js';
export { fitProductQuantizer, procrustes, ProductQuantizer, type ProductQuantizerOptions } from './product-quantizer.js';
export { SET_IDS_FORMAT_VERSION, SET_IDS_KIND, SetIds, type DiscreteSetIdOptions } from './set-ids.js';
export {
  setRecAutoencoder,
  trainSetRecAutoencoder,
  type SetRecAutoencoderGraph,
  type SetRecAutoencoderOptions,
  type TrainSetRecAutoencoderOptions,
} from './setrec-autoencoder.js';
export { fitRqVae, type RqVaeFit, type RqVaeOptions } from './rq-vae.js';
