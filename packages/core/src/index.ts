/**
 * Shared contracts of genrec: errors with codes, row-major matrices, a seeded random generator,
 * progress events, artifact I/O (atomic writes, manifests, `.npy`, safetensors, raw dumps) and the
 * interfaces that the other packages implement.
 *
 * @packageDocumentation
 * @module @genrec/core
 */

export { GenrecError, ensure, type GenrecErrorCode, type GenrecErrorDetails, type GenrecErrorOptions } from './errors.js';
export {
  assertFinite,
  assertSameShape,
  cloneMatrix,
  createMatrix,
  matrixFromArrays,
  matrixRow,
  matrixToArrays,
  normalizeRows,
  rowNorms,
  selectRows,
  type Matrix,
} from './matrix.js';
export { Rng, WeightedSampler, type RngState, type Seed } from './random.js';
export { splitmix64 } from './splitmix64.js';
export {
  progressReporter,
  throttleProgress,
  type EpochEndEvent,
  type FitEndEvent,
  type FitStartEvent,
  type ProgressCallback,
  type ProgressEvent,
  type TaskEvent,
} from './progress.js';
export { fsyncDirectory, removeStaleTemporaryFiles, writeFileAtomic } from './io/atomic-write.js';
export { processIsAlive } from './io/leftovers.js';
export {
  ARTIFACT_CHECKSUM_FILE,
  ARTIFACT_POINTER_FILE,
  openArtifactDirectory,
  writeArtifactDirectory,
  type ArtifactDirectory,
  type ArtifactFileEntry,
} from './io/artifact-directory.js';
export { checkManifest, readArtifactManifest, readJsonFile, readManifest, writeManifest, type ArtifactManifest } from './io/manifest.js';
export { checkBooleanOption, checkEnumOption, checkIntegerOption, checkKnownOptions, checkNumberOption, checkResultSize } from './options.js';
export { NPY_MAX_HEADER_CHARACTERS, decodeNpy, encodeNpy, readNpy, writeNpy, type NpyReadOptions } from './io/npy.js';
export {
  SAFETENSORS_MAX_HEADER_BYTES,
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  writeSafetensors,
  type SafetensorsContent,
  type SafetensorsReadOptions,
} from './io/safetensors.js';
export { RawDump, type RawDumpEntry, type RawDumpReadOptions } from './io/raw-dump.js';
export { readBytes, type ReadBytesOptions } from './io/read-file.js';
export { MAX_STORED_DIMENSION, MAX_STORED_RANK } from './io/stored-shape.js';
export {
  BYTES_PER_ELEMENT,
  assertFiniteTensor,
  bytesOf,
  createTensor,
  dtypeOf,
  shapeSize,
  typedArrayFromBytes,
  type Tensor,
  type TensorData,
  type TensorDataByDType,
  type TensorDType,
} from './io/tensor.js';
export type { EvaluationSet, ItemCatalog, ItemRecord, SequenceDataset } from './contracts/dataset.js';
export type {
  CommonFitOptions,
  EarlyStoppingOptions,
  FitData,
  Histories,
  HistoryBatch,
  ModelDescription,
  RecommendOptions,
  Recommendations,
  Recommender,
  RecommenderLoader,
  RecommenderManifest,
  ScoreScale,
} from './contracts/recommender.js';
export { batchSize, toHistoryBatch } from './recommend/histories.js';
export { ExclusionMask, checkRecommendOptions, emptyRecommendations, selectTopItems } from './recommend/rank-items.js';
export { RetiredItems } from './recommend/retired-items.js';
export { selectValidationUsers, userMetricValue, validateRecommender, validationMetricList, type ValidationMetric, type ValidationUsers } from './recommend/validation-users.js';
export { resolveEarlyStopping, type ResolvedEarlyStopping } from './recommend/early-stopping.js';
export { checkFitCallbacks, checkFitData, checkStepLoss } from './recommend/fit-inputs.js';
export {
  copyParameters,
  fitEpochs,
  type EpochLoopState,
  type EpochSnapshot,
  type EpochValidation,
  type FitEpochsOptions,
  type FitEpochsResult,
  type ParameterValues,
} from './recommend/fit-epochs.js';
export { checkSavedTraining, resolveSavedSpec, storedItemFields } from './recommend/saved-model.js';
export { itemCounts, popularityLogits } from './recommend/popularity.js';
export {
  MODEL_FILES,
  RECOMMENDER_FOLDER_VERSION,
  datasetFingerprint,
  loadRecommender,
  openModelFolder,
  readModelManifest,
  writeModelFolder,
  type LoadRecommenderOptions,
  type ModelFolderContent,
  type OpenedModelFolder,
  type StoredItem,
} from './recommend/model-folder.js';
export type {
  VectorAddOptions,
  VectorIndex,
  VectorIndexLoader,
  VectorMetric,
  VectorSearchOptions,
  VectorSearchResult,
} from './contracts/vector-index.js';
export type { SemanticIdTable, TokenLayout } from './contracts/semantic-id.js';
export type { SetIdTable } from './contracts/set-id.js';
export type { StepModel, StepModelInput, StepSession } from './contracts/step-model.js';
export { codeOf, createTokenLayout, tokenOf, type TokenLayoutOptions } from './token-layout.js';
export { createSemanticIdTable, type SemanticIdTableInit } from './semantic-id-table.js';
export { findSharedDirectory, sharedPath } from './shared-data.js';
