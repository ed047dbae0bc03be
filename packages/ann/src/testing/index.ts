/**
 * Test helpers of `@genrec/ann`: the conformance suite every `VectorIndex` implementation runs
 * (`describeVectorIndexConformance`, for vitest), its naive float64 reference search, and the
 * save-failure injection the suite uses for genrec's own indexes.
 *
 * @packageDocumentation
 * @module @genrec/ann/testing
 */

export { CONFORMANCE_CASES, conformanceData, describeVectorIndexConformance, type VectorIndexConformanceOptions } from './conformance.js';
export { referenceScore, referenceSearch, type ReferenceEntry } from './reference-search.js';
export { armSaveFault } from '../save-fault.js';
