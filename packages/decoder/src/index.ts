/**
 * Trie-constrained beam search, sampling and set-ID decoding over semantic IDs for genrec.
 *
 * @packageDocumentation
 * @module @genrec/decoder
 */

/** The package version this source belongs to. */
export const version = '0.0.0';

export { PrefixTrie, type PrefixTrieOptions } from './prefix-trie.js';
export { TopKSelector } from './top-k-selector.js';
export { BeamState } from './beam-state.js';
export { ExclusionPruner } from './exclusion-pruning.js';
export {
  beamSearch,
  createBeamSearchStats,
  diverseBeamSearch,
  maxBeamsFor,
  MAX_STEP_LOGITS,
  type BeamSearchOptions,
  type BeamSearchResult,
  type BeamSearchStats,
  type DiverseBeamSearchOptions,
  type ExcludedItems,
} from './beam-search.js';
export {
  composeLogitsProcessors,
  historyMaskProcessor,
  repetitionPenaltyProcessor,
  temperatureProcessor,
  topKProcessor,
  topPProcessor,
  type LogitsProcessor,
  type LogitsProcessorContext,
} from './logits-processors.js';
export { sampleSequences, type SampleOptions } from './sampling.js';
export { OnnxSeq2SeqStepModel, type OnnxSeq2SeqStepModelOptions, type Seq2SeqTensorNames } from './onnx-seq2seq-step-model.js';
export { ParallelOnnxStepModel, type ParallelOnnxStepModelOptions } from './parallel-onnx-step-model.js';
export { SetIdDecoder, addSetIdTableToIndex, type SetIdDecodeOptions, type SetIdDecodeResult, type SetIdDecoderOptions } from './set-id-decoder.js';
export { TransformerStepModel, type TransformerStepModelOptions } from './transformer/transformer-step-model.js';
export {
  checkTransformerWeights,
  resolveTransformerSpec,
  transformerWeightShapes,
  type ResolvedTransformerSpec,
  type TransformerSpec,
  type TransformerWeights,
  type WeightShape,
} from './transformer/spec.js';
export { CausalTransformerStepModel, type CausalTransformerStepModelOptions } from './transformer/causal-transformer-step-model.js';
export {
  checkCausalTransformerWeights,
  causalTransformerWeightShapes,
  resolveCausalTransformerSpec,
  type CausalTransformerSpec,
  type ResolvedCausalTransformerSpec,
} from './transformer/causal-spec.js';
