/**
 * The compute engine of genrec: ONNX graphs built in TypeScript, reverse-mode autodiff, optimizers and layers, trained and served with onnxruntime-node.
 *
 * @packageDocumentation
 * @module @genrec/nn
 */

/** The package version this source belongs to. */
export const version = '0.0.0';
