/**
 * The compute engine of genrec: ONNX graphs built in TypeScript, reverse-mode autodiff, optimizers and layers, trained and served with onnxruntime-node.
 *
 * @packageDocumentation
 * @module @genrec/nn
 */

/** The package version this source belongs to. */
export const version = '0.0.0';

export { matMul, matMulTopK, squaredDistances, releaseKernelSessions, type MatMulOptions, type TopKResult } from './kernels.js';
export { createSession, SessionCache, type SessionOptions } from './runtime/session.js';
export { encodeModel, attr, OPSET_VERSION, IR_VERSION, type DType, type Attribute, type NodeInit, type ValueInfoInit, type ModelInit, type TensorProtoInit } from './onnx/proto.js';
