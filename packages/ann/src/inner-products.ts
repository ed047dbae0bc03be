/**
 * Inner products of a block of query rows with every base row, in plain JavaScript:
 * `out[q * baseRows + j] = queries[q] . base[j]` (both row-major with `width` columns, queries
 * starting at row `queryStart`). Four queries share each base row load. The fallback of the flat
 * index for small products, where an onnxruntime call costs more than the arithmetic, and when
 * `@genrec/nn`'s kernels are unavailable.
 */
export function innerProducts(
  queries: Float32Array,
  queryStart: number,
  queryCount: number,
  base: Float32Array,
  baseRows: number,
  width: number,
  out: Float32Array,
): void {
  let q = 0;
  for (; q + 4 <= queryCount; q += 4) {
    const q0 = (queryStart + q) * width;
    const q1 = q0 + width;
    const q2 = q1 + width;
    const q3 = q2 + width;
    const o0 = q * baseRows;
    for (let j = 0; j < baseRows; j++) {
      const b = j * width;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let c = 0; c < width; c++) {
        const v = base[b + c]!;
        s0 += queries[q0 + c]! * v;
        s1 += queries[q1 + c]! * v;
        s2 += queries[q2 + c]! * v;
        s3 += queries[q3 + c]! * v;
      }
      out[o0 + j] = s0;
      out[o0 + baseRows + j] = s1;
      out[o0 + 2 * baseRows + j] = s2;
      out[o0 + 3 * baseRows + j] = s3;
    }
  }
  for (; q < queryCount; q++) {
    const q0 = (queryStart + q) * width;
    const o0 = q * baseRows;
    for (let j = 0; j < baseRows; j++) {
      const b = j * width;
      let s = 0;
      for (let c = 0; c < width; c++) s += queries[q0 + c]! * base[b + c]!;
      out[o0 + j] = s;
    }
  }
}
