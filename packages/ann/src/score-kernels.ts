import { matMul, matMulTopK } from '@genrec/nn';
import type { Matrix } from '@genrec/core';

/** The part of `@genrec/nn`'s kernel API the flat index uses (an interface, so tests can count calls). */
export interface ProductKernels {
  matMul(a: Matrix, b: Matrix, options?: { transposeB?: boolean; intraOpNumThreads?: number }): Promise<Matrix>;
  matMulTopK(
    a: Matrix,
    b: Matrix,
    k: number,
    options?: { transposeB?: boolean; intraOpNumThreads?: number },
  ): Promise<{ indices: Int32Array; values: Float32Array; rows: number; k: number }>;
}

const kernels: ProductKernels = { matMul, matMulTopK };

/** `@genrec/nn`'s onnxruntime matrix products (`matMul`, `matMulTopK`). */
export function onnxKernels(): ProductKernels {
  return kernels;
}
