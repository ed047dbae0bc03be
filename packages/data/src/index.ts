/**
 * Dataset readers (sequence files, CSV/TSV/MovieLens interaction logs, JSONL item metadata), id
 * maps, filters, splits, training examples, statistics and the synthetic default dataset of genrec.
 *
 * @packageDocumentation
 * @module @genrec/data
 */

export {
  DEFAULT_MAX_LINE_LENGTH,
  forEachLine,
  LINE_ENCODINGS,
  MAX_LINE_LENGTH_LIMIT,
  type ForEachLineOptions,
  type LineEncoding,
} from './line-reader.js';
export { MAX_TIMESTAMP_SECONDS, TIMESTAMP_UNITS, type TimestampUnit } from './timestamp.js';
export { IdMap, type IdOrder } from './id-map.js';
export {
  createSequenceDataset,
  datasetToArrays,
  selectInteractions,
  sequenceOf,
  validateSequenceDataset,
  type InteractionDataset,
  type SelectionResult,
  type SequenceDatasetInit,
} from './sequence-dataset.js';
export { readSequenceFile, type ReadSequenceFileOptions } from './sequence-file.js';
export {
  MAX_FIELDS,
  readInteractionLog,
  readMovieLensRatings,
  type ColumnRef,
  type InteractionColumns,
  type ReadInteractionLogOptions,
  type ReadMovieLensOptions,
} from './interaction-log.js';
export { groupInteractions, type InteractionTriples } from './group-interactions.js';
export {
  catalogCoverage,
  DEFAULT_MAX_ITEM_ID,
  MAX_CATALOG_SIZE,
  readItemCatalog,
  remapCatalog,
  type CatalogCoverage,
  type ItemCatalogReadResult,
  type ReadItemCatalogOptions,
} from './item-catalog.js';
export {
  deduplicateInteractions,
  kCoreFilter,
  minRatingFilter,
  type DatasetSize,
  type DeduplicateOptions,
  type DeduplicatePolicy,
  type FilterOptions,
  type FilterReport,
  type FilterResult,
  type KCoreOptions,
} from './filters.js';
export {
  leaveOneOutSplit,
  paddedHistories,
  summarizeSplit,
  temporalSplit,
  type DatasetSplit,
  type LeaveOneOutOptions,
  type SplitSummary,
  type TemporalSplit,
  type TemporalSplitOptions,
} from './splits.js';
export { formatSplitSummary } from './split-summary.js';
export {
  fillPrefixBatch,
  nextItemPairs,
  paddedTrainingSequences,
  type NextItemPairs,
  type NextItemPairsOptions,
  type PaddedSequences,
  type PaddedSequencesOptions,
} from './training-examples.js';
export { datasetStatistics, formatStatistics, type DatasetStatistics } from './statistics.js';
export {
  generateSyntheticDataset,
  type SyntheticDataset,
  type SyntheticDatasetOptions,
  type SyntheticTopic,
} from './synthetic.js';
/** Users to evaluate; the type lives in `@genrec/core`'s contracts (re-exported here). */
export type { EvaluationSet } from '@genrec/core';
export {
  coldItemSplit,
  type ColdHistoryPolicy,
  type ColdItemSplit,
  type ColdItemSplitOptions,
  type ColdItemSplitReport,
} from './cold-item-split.js';
export {
  attributesOf,
  DEFAULT_MAX_ATTRIBUTE_ID,
  MAX_ATTRIBUTE_ID_LIMIT,
  readItemAttributes,
  type ItemAttributes,
  type ItemAttributesFormat,
  type ReadItemAttributesOptions,
} from './item-attributes.js';
export {
  attributeCatalog,
  attributeCountMatrix,
  type AttributeCatalogOptions,
  type AttributeCountMatrixOptions,
  type AttributeMatrix,
} from './attribute-features.js';
