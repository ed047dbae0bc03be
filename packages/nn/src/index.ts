/**
 * The compute engine of genrec: ONNX graphs built in TypeScript, reverse-mode autodiff, optimizers and layers, trained and served with onnxruntime-node.
 *
 * @packageDocumentation
 * @module @genrec/nn
 */

/** The package version this source belongs to. */
export const version = '0.0.0';

export { matMul, matMulTopK, squaredDistances, releaseKernelSessions, type MatMulOptions, type MatMulIntoOptions, type TopKResult } from './kernels.js';
export { prepareMatMulTopK, MAX_PREPARED_OPERAND_BYTES, CHUNKED_MIN_COLUMNS, CHUNKED_FAST_MAX_K, type PreparedMatMulTopK, type PrepareMatMulTopKOptions, type TopKSelection } from './prepared-product.js';
export { createSession, SessionCache, type SessionOptions } from './runtime/session.js';
export { readOnnxModel, type OnnxModelContents, type OnnxNodeInfo } from './onnx/read.js';
export { encodeModel, attr, OPSET_VERSION, IR_VERSION, type DType, type Attribute, type NodeInit, type ValueInfoInit, type ModelInit, type TensorProtoInit, type SubgraphInit } from './onnx/proto.js';
export { Graph, SymbolicTensor, init, type Shape, type Initializer, type GraphOptions, type Parameter, type RowSparseInfo, type DropoutSite, type OpNode, type VjpFunction, type TensorKind, type ToModelOptions, type BuiltModel } from './graph/graph.js';
export { rowSparseParameter, type RowSparseOptions, type RowSparseParameter } from './graph/row-sparse.js';
export * as ops from './graph/ops.js';
export type { TensorLike, GemmOptions, CrossEntropyOptions } from './graph/ops.js';
export { gradients } from './graph/autodiff.js';
export { checkGradients, type GradientCheckInput, type GradientCheckOptions, type GradientCheckResult } from './graph/gradient-check.js';
export { CompiledGraph, compileGraph, type CompileGraphOptions } from './runtime/compiled-graph.js';
export { optimizers, appendOptimizer, type OptimizerConfig, type SgdConfig, type AdamConfig, type OptimizerUpdate, type StateSlot, type AppendOptimizerOptions } from './train/optimizers.js';
export { Trainer, InferenceModel, compileTrainStep, type TrainerOptions, type TrainGraphSpec, type TrainGraphBuilder, type InferenceGraphBuilder, type StepOptions, type StepResult } from './train/trainer.js';
export type { PreferenceModel, PreferenceShape, SupervisedShape } from './train/preference-model.js';
export { learningRateAt, LEARNING_RATE_SCHEDULES, type LearningRateSchedule, type LearningRateScheduleSpec, scheduleBudgetSetting } from './train/learning-rate-schedule.js';
export * as nn from './layers/index.js';
export {
  TRAINING_CHECKPOINT_FILES,
  openTrainingCheckpoint,
  trainingCheckpointState,
  writeTrainingCheckpoint,
  type OpenedTrainingCheckpoint,
  type TrainingCheckpointState,
} from './train/training-checkpoint.js';
export { checkPreferenceShape, itemLogProbFeeds, itemSupervisedFeeds, mergeParameterValues, paddedItemSequences, type ItemPreferenceInputs } from './train/preference-feeds.js';
