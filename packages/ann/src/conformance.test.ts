import { FlatIndex, loadFlatIndex } from './flat-index.js';
import { HnswIndex, loadHnswIndex } from './hnsw-index.js';
import { loadVectorIndex } from './load-vector-index.js';
import { UsearchIndex, loadUsearchIndex } from './usearch-index.js';
import { armSaveFault, describeVectorIndexConformance } from '@genrec/ann/testing';

describeVectorIndexConformance('FlatIndex (JavaScript products)', {
  create: ({ dimension, metric }) => new FlatIndex({ dimension, metric, backend: 'javascript', initialCapacity: 4 }),
  load: (path, expected) => loadFlatIndex(path, { ...expected, backend: 'javascript' }),
  exact: true,
  armSaveFault,
});

describeVectorIndexConformance('FlatIndex (onnxruntime products, uncompiled)', {
  create: ({ dimension, metric }) => new FlatIndex({ dimension, metric, backend: 'onnxruntime', prepare: 'never', intraOpNumThreads: 1, scoreBlockSize: 1000 }),
  load: (path, expected) => loadFlatIndex(path, { ...expected, backend: 'onnxruntime', prepare: 'never', intraOpNumThreads: 1 }),
  exact: true,
  armSaveFault,
});

describeVectorIndexConformance('FlatIndex (onnxruntime products, compiled vectors)', {
  create: ({ dimension, metric }) => new FlatIndex({ dimension, metric, backend: 'onnxruntime', prepare: 'always', intraOpNumThreads: 1, scoreBlockSize: 1000 }),
  load: (path, expected) => loadFlatIndex(path, { ...expected, backend: 'onnxruntime', prepare: 'always', intraOpNumThreads: 1 }),
  exact: true,
  armSaveFault,
});

describeVectorIndexConformance('HnswIndex', {
  // a tiny initial capacity makes every case grow the graph (resizeIndex)
  create: ({ dimension, metric }) => new HnswIndex({ dimension, metric, m: 8, efConstruction: 100, ef: 64, initialCapacity: 8 }),
  load: (path, expected) => loadHnswIndex(path, expected),
  armSaveFault,
});

describeVectorIndexConformance('loadVectorIndex dispatch (HnswIndex)', {
  create: ({ dimension, metric }) => new HnswIndex({ dimension, metric, m: 8, efConstruction: 100 }),
  load: (path, expected) => loadVectorIndex(path, expected),
  metrics: ['cosine'],
  armSaveFault,
});

describeVectorIndexConformance('UsearchIndex', {
  create: ({ dimension, metric }) => new UsearchIndex({ dimension, metric, m: 8, efConstruction: 100, ef: 64 }),
  load: (path, expected) => loadUsearchIndex(path, expected),
  armSaveFault,
});

describeVectorIndexConformance('UsearchIndex (f16 storage, 2 search threads)', {
  create: ({ dimension, metric }) => new UsearchIndex({ dimension, metric, m: 8, efConstruction: 100, quantization: 'f16', threads: 2 }),
  load: (path, expected) => loadUsearchIndex(path, { ...expected, threads: 2 }),
  armSaveFault,
  // f16 keeps 11 significant bits: |score error| ≤ about 2^-11 x |q| |x| x a few (norms ≤ 1.5 here)
  scoreTolerance: 5e-3,
});

describeVectorIndexConformance('UsearchIndex (i8 storage)', {
  create: ({ dimension, metric }) => new UsearchIndex({ dimension, metric, m: 8, efConstruction: 100, quantization: 'i8' }),
  load: (path, expected) => loadUsearchIndex(path, expected),
  // i8 is cosine-only (the vectors are scaled to unit length before rounding)
  metrics: ['cosine'],
  armSaveFault,
  // each component rounded to 1/127 of the unit vector: cosine error up to a few 1e-3 in 12 dimensions
  scoreTolerance: 0.02,
  skip: {
    // measured: on these data the exact scores of the swapped pairs differ by 0.003-0.006, inside the
    // rounding error; the same cases pass for f32 and f16 storage, which share every code path
    'k larger than the index pads with -1 and -Infinity': 'compares the whole order of 5 ids with exact search; i8 rounding swaps near-ties',
    'exclusion sets are honoured': 'compares the top-1 after excluding the exact top-3 with exact search; i8 rounding swaps near-ties (3 of 40 queries)',
  },
});

describeVectorIndexConformance('loadVectorIndex dispatch (UsearchIndex)', {
  create: ({ dimension, metric }) => new UsearchIndex({ dimension, metric, m: 8, efConstruction: 100 }),
  load: (path, expected) => loadVectorIndex(path, expected),
  metrics: ['l2'],
  armSaveFault,
});
