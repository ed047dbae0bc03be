import { createSequenceDataset, leaveOneOutSplit } from '@genrec/data';
import { hitRate } from '@genrec/model-baselines/testing';
import { Rng } from '@genrec/core';
import { fitTiger } from '../src/index.js';
const rng = new Rng(1);
const N = 500;
const seqs: number[][] = [];
for (let u = 0; u < 2000; u++) { const start = 1 + rng.int(N - 30); const len = 5 + rng.int(15); seqs.push(Array.from({ length: len }, (_, i) => start + i)); }
const ds = createSequenceDataset({ name: 'plus1', itemCount: N, sequences: seqs } as never);
const split = leaveOneOutSplit(ds);
const opts = JSON.parse(process.argv[2] ?? '{}');
const model = await fitTiger({ train: split.train, validation: split.validation }, {
  itemVectors: 'collaborative', vectorDimension: 16, levels: 3, codebookSize: 8, modelDimension: 64, heads: 2, feedForwardDimension: 128, layers: 2,
  maxHistory: 10, batchSize: 32, learningRate: 0.002, warmupSteps: 20, schedule: 'constant', beamWidth: 20, workers: 0, threads: 1, epochs: 5, seed: 1, earlyStopping: false,
  ...opts,
  onProgress: (e) => { if (e.type === 'epoch-end') console.log(e.epoch, e.loss.toFixed(4), JSON.stringify(e.validation)); },
});
console.log('HR@1', (await hitRate(model, split.test, 1)).toFixed(3), 'HR@10', (await hitRate(model, split.test, 10)).toFixed(3), JSON.stringify(model.training.codes));
await model.dispose();
