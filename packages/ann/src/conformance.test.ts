import { FlatIndex, loadFlatIndex } from './flat-index.js';
import { HnswIndex, loadHnswIndex } from './hnsw-index.js';
import { loadVectorIndex } from './load-vector-index.js';
import { armSaveFault, describeVectorIndexConformance } from '@genrec/ann/testing';

describeVectorIndexConformance('FlatIndex (JavaScript products)', {
  create: ({ dimension, metric }) => new FlatIndex({ dimension, metric, backend: 'javascript', initialCapacity: 4 }),
  load: (path, expected) => loadFlatIndex(path, { ...expected, backend: 'javascript' }),
  exact: true,
  armSaveFault,
});

describeVectorIndexConformance('FlatIndex (onnxruntime products)', {
  create: ({ dimension, metric }) => new FlatIndex({ dimension, metric, backend: 'onnxruntime', intraOpNumThreads: 1, scoreBlockSize: 1000 }),
  load: (path, expected) => loadFlatIndex(path, { ...expected, backend: 'onnxruntime', intraOpNumThreads: 1 }),
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
