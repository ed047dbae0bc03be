import { generateSyntheticDataset, leaveOneOutSplit } from '@genrec/data';
import { hitRate } from '@genrec/model-baselines/testing';
import { fitTiger } from '../src/index.js';
const synthetic = generateSyntheticDataset({ seed: 1, userCount: 2000, itemCount: 500, transitionProbability: 1, successorsPerItem: 1 });
const split = leaveOneOutSplit(synthetic.dataset, { maxHistoryLength: 50 });
const opts = JSON.parse(process.argv[2] ?? '{}');
const model = await fitTiger({ train: split.train, validation: split.validation }, {
  itemVectors: 'collaborative', vectorDimension: 16, levels: 3, codebookSize: 8, modelDimension: 64, heads: 2, feedForwardDimension: 128, layers: 2,
  maxHistory: 10, batchSize: 64, learningRate: 0.005, warmupSteps: 20, schedule: 'constant', beamWidth: 20, workers: 0, threads: 1, epochs: 6, seed: 1, earlyStopping: false, dropout: 0,
  ...opts,
  onProgress: (e) => { if (e.type === 'epoch-end') console.log(e.epoch, e.loss.toFixed(4), JSON.stringify(e.validation)); },
});
console.log('HR@1', (await hitRate(model, split.test, 1)).toFixed(3), 'HR@10', (await hitRate(model, split.test, 10)).toFixed(3), JSON.stringify(model.training.codes));
await model.dispose();
